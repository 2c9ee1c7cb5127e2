#include "util/secret.hpp"

#include <iotjobs/config.hpp>

#include <openssl/crypto.h>

#include <cstdio>

namespace iotjobs {

namespace detail {

void secure_wipe(void* p, std::size_t n) noexcept {
    if (p && n) OPENSSL_cleanse(p, n);
}

bool read_secret_file(const std::string& path, std::string& out) {
    secure_wipe(out);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    std::setvbuf(f, nullptr, _IONBF, 0);  // no stdio buffer holding a copy
    if (std::fseek(f, 0, SEEK_END) == 0) {
        const long size = std::ftell(f);
        if (size > 0) out.reserve(static_cast<std::size_t>(size));
        std::fseek(f, 0, SEEK_SET);
    }
    char buf[4096];
    bool ok = true;
    for (;;) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, f);
        if (out.size() + n > out.capacity()) {  // the file grew: move to a bigger buffer, wipe the old one
            std::string bigger;
            bigger.reserve(2 * (out.size() + n));
            bigger.append(out);
            secure_wipe(out);
            out.swap(bigger);
        }
        out.append(buf, n);
        if (n < sizeof buf) {
            ok = !std::ferror(f);
            break;
        }
    }
    secure_wipe(buf, sizeof buf);
    std::fclose(f);
    if (!ok) secure_wipe(out);
    return ok;
}

}  // namespace detail

namespace {
// Moves `from` into `to` and wipes what the move leaves in `from` (a short string's characters
// stay in its inline buffer).
void move_secret(std::string& to, std::string& from) noexcept {
    to = std::move(from);
    detail::secure_wipe(from);
}
}  // namespace

credentials::credentials(std::string access_key, std::string secret, std::string token)
    : access_key_id(std::move(access_key)) {
    move_secret(secret_access_key, secret);
    move_secret(session_token, token);
}

credentials::credentials(credentials&& o) noexcept : access_key_id(std::move(o.access_key_id)) {
    move_secret(secret_access_key, o.secret_access_key);
    move_secret(session_token, o.session_token);
}

credentials& credentials::operator=(const credentials& o) {
    if (this == &o) return *this;
    detail::secure_wipe(secret_access_key);
    detail::secure_wipe(session_token);
    access_key_id = o.access_key_id;
    secret_access_key = o.secret_access_key;
    session_token = o.session_token;
    return *this;
}

credentials& credentials::operator=(credentials&& o) noexcept {
    if (this == &o) return *this;
    detail::secure_wipe(secret_access_key);
    detail::secure_wipe(session_token);
    access_key_id = std::move(o.access_key_id);
    move_secret(secret_access_key, o.secret_access_key);
    move_secret(session_token, o.session_token);
    return *this;
}

credentials::~credentials() {
    detail::secure_wipe(secret_access_key);
    detail::secure_wipe(session_token);
}

}  // namespace iotjobs
