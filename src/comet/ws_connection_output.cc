// WsConnection's output: the outbound queue with its slow-consumer limits, corking, and the
// gathered writes that send everything queued in one system call when the socket allows.
#include <boost/asio/write.hpp>

#include "comet/ws_connection.h"
#include "domain/close_codes.h"

namespace roomcast {

namespace {
constexpr std::size_t kMaxGather = 64;               // frames per write
constexpr std::size_t kMaxGatherBytes = 256 * 1024;  // bytes per write
constexpr std::size_t kKeptFrames = kMaxGather;      // queue storage kept between two writes
}  // namespace

void WsConnection::send(Frame frame) {
  if (!open()) return;
  if (!fits_outbound(1, frame->size())) {
    close(close_code::kTryAgainLater, close_reason::kOutboundFull);
    return;
  }
  send_control(std::move(frame));
}

void WsConnection::send_many(const std::vector<Frame>& frames) {
  if (!open()) return;
  std::size_t bytes = 0;
  for (auto& f : frames) bytes += f->size();
  if (!fits_outbound(frames.size(), bytes)) {
    close(close_code::kTryAgainLater, close_reason::kOutboundFull);
    return;
  }
  out_bytes_ += bytes;
  out_.insert(out_.end(), frames.begin(), frames.end());
  if (in_flight_ == 0 && !corked_) write_next();
}

bool WsConnection::fits_outbound(std::size_t events, std::size_t bytes) const {
  std::size_t queued = out_.size() - out_head_;
  // One event always fits into an empty queue: however big hello or a page is, a connection
  // can start (pages are bounded by size, so this stays bounded too).
  if (queued == 0 && events == 1) return true;
  return queued + events <= loop_.limits.outbound_max_events &&
         out_bytes_ + bytes <= loop_.limits.outbound_max_bytes;
}

void WsConnection::uncork() {
  corked_ = false;
  if (in_flight_ == 0) write_next();
}

void WsConnection::send_pong(std::string_view payload) {
  auto frame = std::make_shared<const std::string>(encode_ws_frame(kWsPong, payload));
  // At most one pong waits: a newer ping makes an unsent older pong moot (RFC 6455 §5.5.3).
  if (pending_pong_) {
    for (std::size_t i = out_.size(); i-- > out_head_ + in_flight_;) {
      if (out_[i] != pending_pong_) continue;
      out_bytes_ = out_bytes_ - out_[i]->size() + frame->size();
      out_[i] = pending_pong_ = std::move(frame);
      return;
    }
  }
  // Owed pongs count against the outbound queue like any event (close 1013 past it).
  send(frame);
  if (!out_.empty() && out_.back() == frame) pending_pong_ = std::move(frame);
}

void WsConnection::send_control(Frame frame) {
  if (state_ == State::kClosed) return;
  out_bytes_ += frame->size();
  out_.push_back(std::move(frame));
  if (in_flight_ == 0 && !corked_) write_next();
}

void WsConnection::write_next() {
  while (out_head_ < out_.size()) {
    write_buffers_.clear();
    std::size_t bytes = 0;
    in_flight_ = 0;
    for (std::size_t i = out_head_;
         i < out_.size() && in_flight_ < kMaxGather && bytes < kMaxGatherBytes; ++i) {
      write_buffers_.push_back(asio::buffer(*out_[i]));
      bytes += out_[i]->size();
      ++in_flight_;
    }
    // The socket is non-blocking: try the write right here. Usually the kernel takes it all,
    // and a delivery then costs one sendmsg and no asynchronous operation at all.
    boost::system::error_code ec;
    std::size_t n = socket_.write_some(write_buffers_, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      n = 0;
    } else if (ec) {
      in_flight_ = 0;
      close_socket();
      return;
    }
    if (n == bytes) {
      release_written(in_flight_);
      continue;
    }
    // Partial: retire the frames fully written, then let Asio finish the rest.
    std::size_t done = 0;
    while (n >= out_[out_head_ + done]->size()) n -= out_[out_head_ + done++]->size();
    release_written(done);
    in_flight_ -= done;
    write_buffers_.erase(write_buffers_.begin(), write_buffers_.begin() + static_cast<long>(done));
    write_buffers_.front() += n;
    asio::async_write(socket_, write_buffers_,
                      [this, self = handler_.shared_from_this()](boost::system::error_code ec,
                                                                 std::size_t) { on_written(ec); });
    return;
  }
  in_flight_ = 0;
  if (state_ == State::kDraining) close_socket();
}

void WsConnection::release_idle_storage() {
  if (in_flight_ != 0 || !out_.empty()) return;
  // Most of a million connections are idle: they keep no queue storage.
  if (out_.capacity() > 2) std::vector<Frame>().swap(out_);
  if (write_buffers_.capacity() > write_buffers_.static_capacity)
    decltype(write_buffers_)().swap(write_buffers_);  // back to the inline storage
}

void WsConnection::release_written(std::size_t frames) {
  for (std::size_t i = 0; i < frames; ++i) {
    if (out_[out_head_ + i] == pending_pong_) pending_pong_.reset();
    out_bytes_ -= out_[out_head_ + i]->size();
  }
  out_head_ += frames;
  if (out_head_ == out_.size()) {
    out_head_ = 0;
    // A live connection keeps its queue's storage for the next write (an allocation and a free
    // per write were a tenth of a busy comet's CPU); tick() frees it once the connection idles.
    if (out_.capacity() > kKeptFrames)
      std::vector<Frame>().swap(out_);
    else
      out_.clear();
  } else if (out_head_ > 256 && out_head_ * 2 > out_.size()) {
    out_.erase(out_.begin(), out_.begin() + static_cast<long>(out_head_));
    out_head_ = 0;
  }
}

void WsConnection::on_written(boost::system::error_code ec) {
  release_written(in_flight_);
  in_flight_ = 0;
  if (ec) {
    close_socket();
    return;
  }
  write_next();
}

// Drops queued output, but not the frames being written.
void WsConnection::drop_unsent() {
  for (std::size_t i = out_head_ + in_flight_; i < out_.size(); ++i) out_bytes_ -= out_[i]->size();
  out_.resize(out_head_ + in_flight_);
  pending_pong_.reset();
}

}  // namespace roomcast
