// The static web client, read into memory once at start-up so serving a file never touches the
// disk on an I/O loop. Paths are looked up in the loaded table, never joined onto the file
// system, so no request can reach outside the root.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace roomcast {

struct StaticFile {
  std::string content;
  std::string_view mime_type;
};

class StaticFiles {
 public:
  // Loads every regular file under `root` (a missing root serves nothing). Any thread, once.
  explicit StaticFiles(const std::string& root);

  // The file for a URL path (query and fragment already removed, still percent-encoded):
  // "/" and "/dir/" serve index.html; an extension-less path serves "<path>.html" when it
  // exists, else the app shell /index.html (client-side routes). nullptr when none applies.
  // Thread-safe (the table is immutable after construction).
  const StaticFile* find(std::string_view url_path) const;

  std::size_t size() const { return files_.size(); }

 private:
  const StaticFile* lookup(const std::string& path) const;

  std::unordered_map<std::string, std::shared_ptr<const StaticFile>> files_;
};

}  // namespace roomcast
