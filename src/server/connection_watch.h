// Whether the client of a request is still connected, for handlers that wait on the model.
//
// cpp-httplib 0.11 gives a handler no access to its socket, so the watch finds it: the socket among this process's
// descriptors (/proc/self/fd) whose local and peer addresses are the request's. closed() then peeks at it without
// blocking: a read of 0 bytes (the peer's FIN) or a connection error means the client is gone. The addresses are
// checked again on every call, so a descriptor reused by another connection also reads as closed. Where the socket
// cannot be found (not Linux, or already gone), closed() reports false and the request simply runs to its end.
#pragma once

#include <string>

namespace ts::server {

class ConnectionWatch {
 public:
  ConnectionWatch(const std::string& local_addr, int local_port, const std::string& remote_addr, int remote_port);
  bool closed();

 private:
  bool matches(int fd) const;
  std::string local_addr_, remote_addr_;
  int local_port_ = -1, remote_port_ = -1;
  int fd_ = -1;
};

}  // namespace ts::server
