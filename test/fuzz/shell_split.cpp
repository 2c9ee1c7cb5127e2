// Fuzz target: the credential_process command line split (lib/credentials/parse.cpp shell_split,
// botocore's shlex.split in POSIX mode).
//
// Input: the command line.
#include "credentials/provider.hpp"
#include "fuzz_input.hpp"

#include <cstdlib>

namespace {
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = iotjobs::fuzz::as_text(data, size);
    std::string error;
    const auto words = iotjobs::detail::shell_split(in, error);
    const bool quotes = in.find_first_of("'\"") != std::string_view::npos;
    const bool backslash = in.find('\\') != std::string_view::npos;
    if (!words) {
        // Only an unterminated quote or a trailing backslash fails, and it says which.
        if (error.empty() || (!quotes && !backslash)) std::abort();
        return 0;
    }
    std::size_t total = 0;
    for (const auto& w : *words) {
        if (w.empty() && !quotes) std::abort();  // only '' or "" make an empty argument
        total += w.size();
    }
    if (total > in.size()) std::abort();  // quoting and escapes only remove characters
    if (!quotes && !backslash) {
        // Plain text: exactly the whitespace-separated words.
        std::size_t n = 0, i = 0;
        while (i < in.size()) {
            while (i < in.size() && space(in[i])) ++i;
            if (i == in.size()) break;
            const std::size_t start = i;
            while (i < in.size() && !space(in[i])) ++i;
            if (n >= words->size() || (*words)[n] != in.substr(start, i - start)) std::abort();
            ++n;
        }
        if (n != words->size()) std::abort();
    }
    return 0;
}
