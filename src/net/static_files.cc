#include "net/static_files.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace roomcast {
namespace {

// Beyond this the web root is surely a mistake (a home directory): stop loading.
constexpr std::size_t kMaxTotalBytes = 512u << 20;

std::string_view mime_type(std::string_view path) {
  auto dot = path.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".webmanifest") return "application/manifest+json";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(c | 0x20);
      return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

StaticFiles::StaticFiles(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (root.empty()) return;  // a listener without a web client (Job)
  if (!fs::is_directory(root, ec)) {
    spdlog::warn("http: no web root at '{}': static files are not served", root);
    return;
  }
  std::size_t total = 0;
  auto options = fs::directory_options::skip_permission_denied;
  for (auto it = fs::recursive_directory_iterator(root, options, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    auto file = std::make_shared<StaticFile>();
    file->content = std::move(ss).str();
    total += file->content.size();
    if (total > kMaxTotalBytes) {
      spdlog::warn("http: web root {} holds more than {} MiB: the rest is not served", root,
                   kMaxTotalBytes >> 20);
      break;
    }
    auto url = "/" + fs::relative(it->path(), root, ec).generic_string();
    file->mime_type = mime_type(url);
    files_.emplace(std::move(url), std::move(file));
  }
  spdlog::info("http: {} static files from {} ({} KiB)", files_.size(), root, total >> 10);
}

const StaticFile* StaticFiles::lookup(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second.get();
}

const StaticFile* StaticFiles::find(std::string_view url_path) const {
  auto decoded = percent_decode(url_path);
  if (!decoded || decoded->empty() || decoded->front() != '/') return nullptr;
  std::string path = std::move(*decoded);
  if (path.back() == '/') {
    if (auto* f = lookup(path + "index.html")) return f;
    return lookup("/index.html");
  }
  if (auto* f = lookup(path)) return f;
  if (path.find('.', path.rfind('/')) != std::string::npos) return nullptr;  // a missing file
  if (auto* f = lookup(path + ".html")) return f;
  return lookup("/index.html");
}

}  // namespace roomcast
