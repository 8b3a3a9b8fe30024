// The WebSocket close codes of docs/protocol.md ("Close codes a client must know"), each with
// what it tells the client, and the reasons the server sends with them. Every close the server
// sends names one of these; received codes are checked by valid_close_code (ws_codec.h).
#pragma once

#include <cstdint>

namespace roomcast::close_code {

// RFC 6455 §7.4.1 codes.
inline constexpr uint16_t kNormal = 1000;           // the answer to a client's close without a code
inline constexpr uint16_t kGoingAway = 1001;        // shutdown or silence: reconnect
inline constexpr uint16_t kProtocolError = 1002;    // a frame or close frame broke RFC 6455
inline constexpr uint16_t kUnsupportedData = 1003;  // a binary message (not in the protocol)
// Never sent: what a received close frame without a payload reports; answered with kNormal.
inline constexpr uint16_t kNoStatus = 1005;
inline constexpr uint16_t kInvalidPayload = 1007;  // a text message that is not UTF-8
// Invalid session or foreign Origin: do not reconnect with the same session.
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;  // past limits.max_frame_bytes
inline constexpr uint16_t kInternalError = 1011;  // this server failed (logged as a warning)
// Service restart (drain): reason "reconnect:<ms>"; wait that long plus jitter, then resume.
inline constexpr uint16_t kServiceRestart = 1012;
// The outbound queue is full: try again later, then resume.
inline constexpr uint16_t kTryAgainLater = 1013;

// Application codes (3000-4999).
// Too many connections of this user: do not reconnect automatically.
inline constexpr uint16_t kTooManyConnections = 4008;
// The server cannot keep this connection's rooms consistent: reconnect and resume.
inline constexpr uint16_t kInsufficientState = 4010;

}  // namespace roomcast::close_code

namespace roomcast::close_reason {

inline constexpr const char* kShuttingDown = "server shutting down";  // kGoingAway
inline constexpr const char* kSilence = "silence timeout";            // kGoingAway
inline constexpr const char* kForeignOrigin = "origin not allowed";   // kPolicyViolation
inline constexpr const char* kInvalidSession = "invalid session";     // kPolicyViolation
inline constexpr const char* kInternalError = "internal error";       // kInternalError
inline constexpr const char* kOutboundFull = "outbound queue full; resume later";  // kTryAgainLater
inline constexpr const char* kTooManyConnections = "too many connections of this user";
inline constexpr const char* kInsufficientState = "insufficient state; resume";
// kServiceRestart: "reconnect:<ms>", the delay the client waits before reconnecting.
inline constexpr const char* kReconnectPrefix = "reconnect:";

}  // namespace roomcast::close_reason
