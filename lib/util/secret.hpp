// Wiping secrets from memory (secret keys, session tokens, tokens read from files) when the
// library lets go of them, with OPENSSL_cleanse (a write the compiler may not remove).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

namespace iotjobs::detail {

// Overwrites n bytes at p with zeros (OPENSSL_cleanse).
void secure_wipe(void* p, std::size_t n) noexcept;

// Overwrites the whole buffer of `s` (its capacity, which may hold an older, longer value, and
// the inline buffer of a short string), then empties it. The buffer is kept (no reallocation).
template <class Alloc>
void secure_wipe(std::basic_string<char, std::char_traits<char>, Alloc>& s) noexcept {
    s.resize(s.capacity());  // within capacity: no allocation, so it cannot throw
    secure_wipe(s.data(), s.size());
    s.clear();
}

// Wipes the strings it was given when it goes out of scope: a token read from a file and the
// request fields that carry it, on every path out of a function or coroutine. Declare it after
// the strings (locals are destroyed in reverse order).
class wipe_on_exit {
public:
    wipe_on_exit(std::initializer_list<std::string*> strings) : strings_(strings) {}
    ~wipe_on_exit() {
        for (std::string* s : strings_) secure_wipe(*s);
    }
    wipe_on_exit(const wipe_on_exit&) = delete;
    wipe_on_exit& operator=(const wipe_on_exit&) = delete;
    void add(std::string& s) { strings_.push_back(&s); }

private:
    std::vector<std::string*> strings_;
};

// Reads the whole file at `path` into `out` (replacing its contents) in one allocation sized
// from the file, through a stack buffer that is wiped afterwards: no copy of the secret is left
// in a freed stream or string buffer. False when the file cannot be opened or read.
bool read_secret_file(const std::string& path, std::string& out);

}  // namespace iotjobs::detail
