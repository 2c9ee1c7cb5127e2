#include "http/conn_io.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <algorithm>
#include <cstring>

namespace iotjobs::detail {

namespace asio = boost::asio;

void tls_buffers::make_room(std::size_t min_free) {
    if (in_begin == in_end) in_begin = in_end = 0;
    if (in.size() - in_end >= min_free) return;
    if (in_begin > 0) {
        std::memmove(in.data(), in.data() + in_begin, in_end - in_begin);
        in_end -= in_begin;
        in_begin = 0;
    }
    if (in.size() - in_end < min_free) in.resize(std::max(in.size() * 2, in_end + min_free));
}

namespace {

tls_buffers& buffers_of(BIO* b) { return *static_cast<tls_buffers*>(BIO_get_data(b)); }

int bio_write(BIO* b, const char* data, std::size_t len, std::size_t* written) {
    BIO_clear_retry_flags(b);
    buffers_of(b).out.append(data, len);
    *written = len;
    return 1;
}

int bio_read(BIO* b, char* data, std::size_t len, std::size_t* read) {
    BIO_clear_retry_flags(b);
    auto& buf = buffers_of(b);
    const std::size_t n = std::min(len, buf.available());
    *read = n;
    if (n == 0) {
        if (!buf.in_eof) BIO_set_retry_read(b);  // more may come: SSL_ERROR_WANT_READ
        return 0;                                // else end of stream
    }
    std::memcpy(data, buf.in.data() + buf.in_begin, n);
    buf.in_begin += n;
    return 1;
}

long bio_ctrl(BIO* b, int cmd, long, void*) {
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;  // `out` is sent by the connection after each SSL call
    case BIO_CTRL_EOF: {
        auto& buf = buffers_of(b);
        return buf.in_eof && buf.available() == 0 ? 1 : 0;
    }
    case BIO_CTRL_PENDING: return static_cast<long>(buffers_of(b).available());
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;
    }
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

int bio_destroy(BIO*) { return 1; }

BIO_METHOD* buffer_bio_method() {
    static BIO_METHOD* const method = [] {
        int index = BIO_get_new_index();
        BIO_METHOD* m = BIO_meth_new((index > 0 ? index : 0) | BIO_TYPE_SOURCE_SINK, "iotjobs connection buffers");
        if (!m) return m;
        BIO_meth_set_write_ex(m, bio_write);
        BIO_meth_set_read_ex(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        BIO_meth_set_destroy(m, bio_destroy);
        return m;
    }();
    return method;
}

}  // namespace

BIO* make_buffer_bio(tls_buffers& b) {
    BIO_METHOD* m = buffer_bio_method();
    if (!m) return nullptr;
    BIO* bio = BIO_new(m);
    if (bio) BIO_set_data(bio, &b);
    return bio;
}

error_code ssl_failure(int kind, const tls_buffers& b) {
    const unsigned long err = ERR_get_error();
    ERR_clear_error();
    if (kind == SSL_ERROR_ZERO_RETURN) return asio::error::eof;
    const bool peer_gone = b.in_eof && b.available() == 0;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    if (ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return asio::ssl::error::stream_truncated;
#endif
    if (err == 0) {
        // OpenSSL 1.1 reports the transport's EOF as SSL_ERROR_SYSCALL without a queued error.
        if (peer_gone) return asio::ssl::error::stream_truncated;
        return kind == SSL_ERROR_SYSCALL ? asio::ssl::error::unspecified_system_error
                                         : asio::ssl::error::unexpected_result;
    }
    return error_code(static_cast<int>(err), asio::error::get_ssl_category());
}

}  // namespace iotjobs::detail
