// Log lines and their id fields (common/log_ids.h, common/json_log.h), and trace ids.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <sstream>

#include "common/json_log.h"
#include "common/log.h"
#include "common/log_ids.h"
#include "common/trace_id.h"

namespace json = boost::json;
using namespace roomcast;

namespace {

// Routes the default logger to a string for the test's lifetime.
class CapturedLog {
 public:
  explicit CapturedLog(std::unique_ptr<spdlog::formatter> formatter,
                       spdlog::level::level_enum level = spdlog::level::debug)
      : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_formatter(std::move(formatter));
    logger->set_level(level);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }
  json::object line() const { return json::parse(out_.str()).as_object(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

std::unique_ptr<spdlog::formatter> json_formatter() {
  return std::make_unique<JsonLogFormatter>("comet", "comet-1");
}

// Counts how often it is formatted.
struct Counted {
  int* formatted;
};

}  // namespace

template <>
struct fmt::formatter<Counted> : fmt::formatter<int> {
  auto format(const Counted& c, fmt::format_context& ctx) const {
    return fmt::formatter<int>::format(++*c.formatted, ctx);
  }
};

TEST(TraceIds, AreSixteenLowercaseHexAndParseBack) {
  auto a = TraceId::random(), b = TraceId::random();
  EXPECT_TRUE(a);
  EXPECT_NE(a, b);
  auto text = a.to_string();
  EXPECT_EQ(text.size(), 16u);
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), std::string::npos) << text;
  EXPECT_EQ(TraceId::parse(text), a);
  EXPECT_EQ(TraceId{0x00ab}.to_string(), "00000000000000ab");
}

TEST(TraceIds, RejectWhatIsNotOne) {
  for (std::string_view bad : {"", "00ab", "00000000000000AB", "00000000000000ag",
                               "0000000000000000", "00000000000000abc", " 0000000000000ab"})
    EXPECT_FALSE(TraceId::parse(bad)) << bad;
}

TEST(LogIds, JsonLinesCarryTheIdsThatAreSet) {
  CapturedLog log(json_formatter());
  auto trace = TraceId{0x1234};
  log_ids(spdlog::level::info, LogIds().user(7).room("lobby").msg(42).trace(trace),
          "push failed: {}", "timeout");
  auto line = log.line();
  EXPECT_EQ(line.at("message"), "push failed: timeout");
  EXPECT_EQ(line.at("level"), "info");
  EXPECT_EQ(line.at("role"), "comet");
  EXPECT_EQ(line.at("node"), "comet-1");
  EXPECT_EQ(line.at("user"), 7);
  EXPECT_EQ(line.at("room"), "lobby");
  EXPECT_EQ(line.at("msg"), "42-0");
  EXPECT_EQ(line.at("trace"), "0000000000001234");
}

TEST(LogIds, UnsetIdsAreLeftOutAndPlainLinesHaveNone) {
  {
    CapturedLog log(json_formatter());
    log_ids(spdlog::level::warn, LogIds().room("r1"), "x");
    auto line = log.line();
    EXPECT_EQ(line.at("room"), "r1");
    EXPECT_FALSE(line.contains("user") || line.contains("msg") || line.contains("trace"));
  }
  CapturedLog log(json_formatter());
  spdlog::info("no ids");  // a line after log_ids() must not inherit its ids
  auto line = log.line();
  EXPECT_EQ(line.size(), 6u) << log.text();
}

TEST(LogIds, ClientChosenRoomIdsAreEscapedAndCut) {
  std::string room = "a\"b\\c\n\x01\xff" + std::string(100, 'x');
  CapturedLog log(json_formatter());
  log_ids(spdlog::level::info, LogIds().room(room), "quote \" and newline \n");
  auto text = log.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;  // one line
  auto line = log.line();
  EXPECT_EQ(line.at("message"), "quote \" and newline \n");
  auto shown = std::string(line.at("room").as_string());
  EXPECT_EQ(shown.substr(0, 7), "a\"b\\c\n\x01");
  EXPECT_EQ(shown.substr(7, 3), "\xEF\xBF\xBD");       // the invalid byte, replaced
  EXPECT_EQ(shown.size(), 7 + 3 + (64 - 8)) << shown;  // 64 bytes shown
}

TEST(LogIds, TextLinesEndWithTheIdsAsTokens) {
  CapturedLog log(text_log_formatter());
  log_ids(spdlog::level::info, LogIds().user(3).room("my room\n").msg(5).trace(TraceId{1}),
          "accepted");
  auto text = log.text();
  EXPECT_NE(text.find("accepted user=3 room=my?room? msg=5-0 trace=0000000000000001\n"),
            std::string::npos)
      << text;
}

TEST(LogIds, ADisabledLevelFormatsNothing) {
  int formatted = 0;
  CapturedLog log(json_formatter(), spdlog::level::info);
  log_ids(spdlog::level::debug, LogIds().user(1), "hop {}", Counted{&formatted});
  EXPECT_EQ(formatted, 0);
  EXPECT_EQ(log.text(), "");
  log_ids(spdlog::level::info, LogIds().user(1), "hop {}", Counted{&formatted});
  EXPECT_EQ(formatted, 1);
  EXPECT_EQ(log.line().at("message"), "hop 1");
}
