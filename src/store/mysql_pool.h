// A bounded pool of MariaDB Connector/C connections with prepared statements only.
//
// Callers lease a connection (waiting up to `pool_wait` when all are busy); the pool opens new
// ones on demand up to `pool_max`. A connection idle for longer than `idle_check` is pinged
// before it is handed out and reopened if the server went away; a connection that failed with a
// lost-connection error is reopened (MysqlConnection::reconnect) or dropped. Automatic
// reconnection of the client library stays off: it silently invalidates prepared statements
// and open transactions.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/config.h"
#include "store/store.h"

struct st_mysql;
struct st_mysql_stmt;

namespace roomcast {

// A failure of the server or of the connection, with the MySQL error number.
struct MysqlError : StoreError {
  MysqlError(unsigned code, const std::string& what) : StoreError(what), code(code) {}
  unsigned code;
  // The server went away or the connection broke: reconnecting and retrying may succeed.
  bool connection_lost() const;
  bool duplicate_key() const;
};

// The settings come from the settings table (the defaults are Config's, declared once there).
struct MysqlOptions {
  MysqlOptions();  // the settings' defaults
  explicit MysqlOptions(const Config& config);

  std::string host;         // mysql_host
  int port;                 // mysql_port
  std::string user;         // mysql_user
  std::string password;     // mysql_password
  std::string database;     // mysql_database
  std::string unix_socket;  // used instead of host:port when set
  int pool_max;             // mysql_pool_max
  std::chrono::seconds connect_timeout{3};
  std::chrono::seconds io_timeout{10};  // read and write timeout of every statement
  std::chrono::milliseconds pool_wait{3000};
  std::chrono::milliseconds idle_check{5000};
};

// A statement parameter; string_view must outlive the execute call.
using MysqlParam = std::variant<std::nullptr_t, int64_t, uint64_t, std::string_view>;
using MysqlRow = std::vector<std::optional<std::string>>;  // every column as text; NULL = nullopt

struct MysqlResult {
  uint64_t affected_rows = 0;
  uint64_t insert_id = 0;
  std::vector<MysqlRow> rows;
};

class MysqlConnection {
 public:
  explicit MysqlConnection(const MysqlOptions& options);
  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  // Prepares `sql` once per connection (cached) and runs it with `params`. Throws MysqlError.
  MysqlResult execute(const std::string& sql, std::span<const MysqlParam> params);
  MysqlResult execute(const std::string& sql, std::initializer_list<MysqlParam> params) {
    return execute(sql, std::span<const MysqlParam>(params.begin(), params.size()));
  }
  // Statements without parameters that cannot be prepared (DDL, START TRANSACTION, COMMIT).
  void query(const std::string& sql);

  void begin() { query("START TRANSACTION"); }
  void commit() { query("COMMIT"); }
  void rollback() noexcept;

  bool ping();       // false when the server is not reachable on this connection
  void reconnect();  // closes and reopens; prepared statements are re-prepared lazily
  bool broken() const { return broken_; }
  std::chrono::steady_clock::time_point last_used;

 private:
  void open();
  void close();
  st_mysql_stmt* prepare(const std::string& sql);
  [[noreturn]] void fail(unsigned code, const std::string& message);

  const MysqlOptions& options_;
  st_mysql* mysql_ = nullptr;
  bool broken_ = false;
  std::unordered_map<std::string, st_mysql_stmt*> statements_;
};

class MysqlPool {
 public:
  explicit MysqlPool(MysqlOptions options);
  ~MysqlPool();
  MysqlPool(const MysqlPool&) = delete;
  MysqlPool& operator=(const MysqlPool&) = delete;

  // A leased connection, back to the pool (or closed when broken) on destruction.
  class Lease {
   public:
    Lease(MysqlPool* pool, std::unique_ptr<MysqlConnection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    MysqlConnection& operator*() const { return *c_; }
    MysqlConnection* operator->() const { return c_.get(); }

   private:
    MysqlPool* pool_;
    std::unique_ptr<MysqlConnection> c_;
  };

  // Waits up to options.pool_wait for a connection; throws MysqlError on timeout or when a new
  // connection cannot be opened.
  Lease acquire();

  // Runs fn(connection, attempt) and, when it fails because the connection was lost, reconnects
  // and runs it once more (attempt 1). fn must be safe to repeat.
  template <typename F>
  auto with_retry(F&& fn) {
    auto lease = acquire();
    try {
      return fn(*lease, 0);
    } catch (const MysqlError& e) {
      if (!e.connection_lost()) throw;
      lease->reconnect();
      return fn(*lease, 1);
    }
  }

  int open_connections();
  int idle_connections();
  const MysqlOptions& options() const { return options_; }

 private:
  void release(std::unique_ptr<MysqlConnection> c);

  MysqlOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<MysqlConnection>> idle_;
  int open_ = 0;
};

}  // namespace roomcast
