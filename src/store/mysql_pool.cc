#include "store/mysql_pool.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <functional>

#include "common/metrics_events.h"

namespace roomcast {

bool MysqlError::connection_lost() const {
  switch (code) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
      return true;
    default:
      return false;
  }
}

bool MysqlError::duplicate_key() const {
  return code == ER_DUP_ENTRY;
}

// ---- MysqlConnection ----

MysqlConnection::MysqlConnection(const MysqlOptions& options) : options_(options) {
  open();
}

MysqlConnection::~MysqlConnection() {
  close();
}

void MysqlConnection::open() {
  mysql_ = mysql_init(nullptr);
  if (!mysql_) throw MysqlError(CR_OUT_OF_MEMORY, "mysql: out of memory");
  unsigned connect = static_cast<unsigned>(options_.connect_timeout.count());
  unsigned io = static_cast<unsigned>(options_.io_timeout.count());
  mysql_optionsv(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &connect);
  mysql_optionsv(mysql_, MYSQL_OPT_READ_TIMEOUT, &io);
  mysql_optionsv(mysql_, MYSQL_OPT_WRITE_TIMEOUT, &io);
  mysql_optionsv(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  my_bool off = 0;
  mysql_optionsv(mysql_, MYSQL_OPT_RECONNECT, &off);
  const char* socket = options_.unix_socket.empty() ? nullptr : options_.unix_socket.c_str();
  if (!mysql_real_connect(mysql_, options_.host.c_str(), options_.user.c_str(),
                          options_.password.c_str(), options_.database.c_str(),
                          static_cast<unsigned>(options_.port), socket, 0)) {
    unsigned code = mysql_errno(mysql_);
    std::string msg = mysql_error(mysql_);
    mysql_close(mysql_);
    mysql_ = nullptr;
    broken_ = true;
    throw MysqlError(code, "mysql: cannot connect to " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + msg);
  }
  broken_ = false;
  last_used = std::chrono::steady_clock::now();
}

void MysqlConnection::close() {
  for (auto& [sql, stmt] : statements_) mysql_stmt_close(stmt);
  statements_.clear();
  if (mysql_) mysql_close(mysql_);
  mysql_ = nullptr;
}

void MysqlConnection::reconnect() {
  close();
  open();
}

bool MysqlConnection::ping() {
  return mysql_ && mysql_ping(mysql_) == 0;
}

void MysqlConnection::fail(unsigned code, const std::string& message) {
  MysqlError e(code, "mysql: " + message);
  if (e.connection_lost()) broken_ = true;
  throw e;
}

void MysqlConnection::query(const std::string& sql) {
  if (!mysql_) fail(CR_SERVER_GONE_ERROR, "not connected");
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0)
    fail(mysql_errno(mysql_), std::string(mysql_error(mysql_)) + " in " + sql.substr(0, 80));
  // Statements run here return no rows, but drain anything so the connection stays usable.
  if (MYSQL_RES* res = mysql_store_result(mysql_)) mysql_free_result(res);
  last_used = std::chrono::steady_clock::now();
}

void MysqlConnection::rollback() noexcept {
  if (mysql_ && !broken_) mysql_rollback(mysql_);
}

MYSQL_STMT* MysqlConnection::prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  if (!mysql_) fail(CR_SERVER_GONE_ERROR, "not connected");
  MYSQL_STMT* stmt = mysql_stmt_init(mysql_);
  if (!stmt) fail(CR_OUT_OF_MEMORY, "out of memory");
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) {
    unsigned code = mysql_stmt_errno(stmt);
    std::string msg = mysql_stmt_error(stmt);
    mysql_stmt_close(stmt);
    fail(code, msg + " in " + sql.substr(0, 80));
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

namespace {

// Input binds for a statement's parameters; the vectors own what the binds point to.
struct ParamBinds {
  std::vector<MYSQL_BIND> binds;
  std::vector<unsigned long> lengths;
  std::vector<my_bool> nulls;

  explicit ParamBinds(std::span<const MysqlParam> params)
      : binds(params.size()), lengths(params.size()), nulls(params.size(), 0) {
    static char empty[1] = {0};  // the client library wants a non-null buffer for ""
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto& b = binds[i];
      std::memset(&b, 0, sizeof b);
      const MysqlParam& p = params[i];
      if (std::holds_alternative<std::nullptr_t>(p)) {
        b.buffer_type = MYSQL_TYPE_NULL;
        nulls[i] = 1;
        b.is_null = &nulls[i];
      } else if (auto* v = std::get_if<int64_t>(&p)) {
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = const_cast<int64_t*>(v);
      } else if (auto* u = std::get_if<uint64_t>(&p)) {
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = const_cast<uint64_t*>(u);
        b.is_unsigned = 1;
      } else {
        auto sv = std::get<std::string_view>(p);
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = sv.empty() ? empty : const_cast<char*>(sv.data());
        b.buffer_length = static_cast<unsigned long>(sv.size());
        lengths[i] = static_cast<unsigned long>(sv.size());
        b.length = &lengths[i];
      }
    }
  }
};

// Output binds: every column is fetched as text into a growable buffer; longer values are read
// again with mysql_stmt_fetch_column once their length is known.
struct ResultBinds {
  std::vector<MYSQL_BIND> binds;
  std::vector<std::string> buffers;
  std::vector<unsigned long> lengths;
  std::vector<my_bool> nulls, errors;

  explicit ResultBinds(unsigned columns)
      : binds(columns),
        buffers(columns, std::string(256, '\0')),
        lengths(columns),
        nulls(columns),
        errors(columns) {
    for (unsigned c = 0; c < columns; ++c) {
      std::memset(&binds[c], 0, sizeof binds[c]);
      binds[c].buffer_type = MYSQL_TYPE_STRING;
      binds[c].buffer = buffers[c].data();
      binds[c].buffer_length = static_cast<unsigned long>(buffers[c].size());
      binds[c].length = &lengths[c];
      binds[c].is_null = &nulls[c];
      binds[c].error = &errors[c];
    }
  }
};

// Column `c` of the current row when it did not fit its buffer; false on a client error.
bool fetch_long_column(MYSQL_STMT* stmt, unsigned c, unsigned long length, std::string& out) {
  out.assign(length, '\0');
  MYSQL_BIND col;
  std::memset(&col, 0, sizeof col);
  unsigned long col_len = 0;
  col.buffer_type = MYSQL_TYPE_STRING;
  col.buffer = out.data();
  col.buffer_length = length;
  col.length = &col_len;
  return mysql_stmt_fetch_column(stmt, &col, c, 0) == 0;
}

// Reads every row of a stored result; `stmt_fail` throws the statement's error.
void fetch_rows(MYSQL_STMT* stmt, unsigned columns, MysqlResult& result,
                const std::function<void()>& stmt_fail) {
  ResultBinds out(columns);
  if (mysql_stmt_bind_result(stmt, out.binds.data())) stmt_fail();
  for (;;) {
    int rc = mysql_stmt_fetch(stmt);
    if (rc == MYSQL_NO_DATA) break;
    if (rc == 1) stmt_fail();
    MysqlRow row(columns);
    for (unsigned c = 0; c < columns; ++c) {
      if (out.nulls[c]) continue;
      if (out.lengths[c] <= out.buffers[c].size()) {
        row[c].emplace(out.buffers[c].data(), out.lengths[c]);
        continue;
      }
      std::string big;
      if (!fetch_long_column(stmt, c, out.lengths[c], big)) stmt_fail();
      row[c] = std::move(big);
    }
    result.rows.push_back(std::move(row));
  }
}

}  // namespace

MysqlResult MysqlConnection::execute(const std::string& sql, std::span<const MysqlParam> params) {
  MYSQL_STMT* stmt = prepare(sql);
  auto stmt_fail = [&] {
    unsigned code = mysql_stmt_errno(stmt);
    std::string msg = mysql_stmt_error(stmt);
    mysql_stmt_reset(stmt);
    fail(code, msg);
  };
  ParamBinds in(params);
  if (mysql_stmt_param_count(stmt) != params.size())
    throw MysqlError(0, "mysql: wrong parameter count for " + sql.substr(0, 80));
  if (!in.binds.empty() && mysql_stmt_bind_param(stmt, in.binds.data())) stmt_fail();
  if (mysql_stmt_execute(stmt)) stmt_fail();

  MysqlResult result;
  result.affected_rows = mysql_stmt_affected_rows(stmt);
  result.insert_id = mysql_stmt_insert_id(stmt);
  unsigned columns = mysql_stmt_field_count(stmt);
  if (columns > 0) {
    if (mysql_stmt_store_result(stmt)) stmt_fail();
    if (result.affected_rows == static_cast<uint64_t>(-1)) result.affected_rows = 0;
    fetch_rows(stmt, columns, result, stmt_fail);
    mysql_stmt_free_result(stmt);
  }
  last_used = std::chrono::steady_clock::now();
  return result;
}

// ---- MysqlPool ----

MysqlOptions::MysqlOptions() : MysqlOptions(Config{}) {}

MysqlOptions::MysqlOptions(const Config& c)
    : host(c.mysql_host),
      port(c.mysql_port),
      user(c.mysql_user),
      password(c.mysql_password),
      database(c.mysql_database),
      pool_max(c.mysql_pool_max) {}

MysqlPool::MysqlPool(MysqlOptions options) : options_(std::move(options)) {
  if (options_.pool_max < 1) options_.pool_max = 1;
}

MysqlPool::~MysqlPool() = default;

MysqlPool::Lease::~Lease() {
  if (c_) pool_->release(std::move(c_));
}

MysqlPool::Lease MysqlPool::acquire() {
  metrics::PoolWaitTimer timer(PoolKind::kMysql);  // waiting, plus opening a new connection
  std::unique_lock lock(mutex_);
  if (!available_.wait_for(lock, options_.pool_wait,
                           [&] { return !idle_.empty() || open_ < options_.pool_max; }))
    throw MysqlError(0, "mysql: no free connection within " +
                            std::to_string(options_.pool_wait.count()) + " ms");
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());  // most recently used: the least likely to be stale
    idle_.pop_back();
    lock.unlock();
    // An idle connection may have been closed by the server (restart, wait_timeout): check it
    // cheaply before handing it out rather than failing the caller's first statement.
    if (std::chrono::steady_clock::now() - c->last_used > options_.idle_check && !c->ping()) {
      try {
        c->reconnect();
      } catch (...) {
        lock.lock();
        --open_;
        available_.notify_one();
        throw;
      }
    }
    return Lease(this, std::move(c));
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(this, std::make_unique<MysqlConnection>(options_));
  } catch (...) {
    lock.lock();
    --open_;
    available_.notify_one();
    throw;
  }
}

void MysqlPool::release(std::unique_ptr<MysqlConnection> c) {
  {
    std::lock_guard lock(mutex_);
    if (c->broken()) {
      --open_;
    } else {
      idle_.push_back(std::move(c));
    }
  }
  available_.notify_one();
  // A broken connection is closed here, outside the lock (c still owns it).
}

int MysqlPool::open_connections() {
  std::lock_guard lock(mutex_);
  return open_;
}

int MysqlPool::idle_connections() {
  std::lock_guard lock(mutex_);
  return static_cast<int>(idle_.size());
}

}  // namespace roomcast
