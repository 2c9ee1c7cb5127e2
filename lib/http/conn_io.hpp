// The pieces under a pooled connection that are not coroutines: TLS records kept in the
// connection's own buffers (a custom OpenSSL BIO, no BIO pair and no asio::ssl::stream layers),
// and OpenSSL result -> error_code mapping as asio::ssl reports it.
#pragma once

#include <iotjobs/error.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <vector>

namespace iotjobs::detail {

// Raw (encrypted) bytes between a socket and OpenSSL. OpenSSL reads [in_begin, in_end) through the
// BIO and appends what it wants sent to `out`; the connection moves bytes between these and the
// socket.
struct tls_buffers {
    std::vector<char> in;
    std::size_t in_begin = 0;
    std::size_t in_end = 0;
    bool in_eof = false;  // the socket reported end of stream: the BIO reports EOF once `in` is drained
    std::string out;

    std::size_t available() const noexcept { return in_end - in_begin; }
    // Room for at least `min_free` more bytes at the end of `in` (compacts, then grows).
    void make_room(std::size_t min_free);
};

// A BIO over `b` (not owned; it must outlive the BIO). SSL_set_bio(ssl, bio, bio) gives it to an SSL.
BIO* make_buffer_bio(tls_buffers& b);

// The error for an SSL_* call whose SSL_get_error() was `kind`, neither WANT_READ nor WANT_WRITE
// (call it before anything else can touch the thread's OpenSSL error queue), the way asio::ssl
// reports it: close_notify -> asio::error::eof; the peer closing without close_notify
// -> asio::ssl::error::stream_truncated; else an asio ssl-category code carrying the OpenSSL
// error. Clears the thread's OpenSSL error queue.
error_code ssl_failure(int kind, const tls_buffers& b);

}  // namespace iotjobs::detail
