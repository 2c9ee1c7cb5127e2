// --debug output of the iotjobs CLI, and the redaction every line goes through.
#include "cli/cli.hpp"

#include "jobs/wire.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace iotjobs::cli {
namespace {

constexpr std::string_view redacted = "<redacted>";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool iequals_at(std::string_view s, std::size_t pos, std::string_view key) {
    if (pos + key.size() > s.size()) return false;
    for (std::size_t i = 0; i < key.size(); ++i)
        if (lower(s[pos + i]) != key[i]) return false;
    return true;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    std::size_t pos = 0;
    while ((pos = s.find(what, pos)) != std::string::npos) {
        s.replace(pos, what.size(), with);
        pos += with.size();
    }
}

// Labels whose value is secret, lower case. A label matches at a word start, followed by optional
// blanks and ':' (value to the end of the line, as a header) or '=' (value up to the next
// separator, as in "Signature=..." or a query parameter).
constexpr std::array<std::string_view, 15> secret_labels{
    "authorization", "security-token", "security_token",    "session-token",     "session_token",
    "sessiontoken",  "signature",      "signing key",       "signing-key",       "signing_key",
    "signingkey",    "ksigning",       "secret_access_key", "secret-access-key", "secretaccesskey",
};

void redact_labels(std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (i > 0 && is_alnum(s[i - 1])) {
            ++i;
            continue;
        }
        std::size_t key_len = 0;
        for (std::string_view key : secret_labels) {
            if (iequals_at(s, i, key)) {
                key_len = key.size();
                break;
            }
        }
        if (key_len == 0) {
            ++i;
            continue;
        }
        std::size_t j = i + key_len;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        if (j >= s.size() || (s[j] != ':' && s[j] != '=')) {
            i += key_len;
            continue;
        }
        const bool header_style = s[j] == ':';
        ++j;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        std::size_t end = j;
        if (header_style) {
            while (end < s.size() && s[end] != '\n' && s[end] != '\r') ++end;
        } else {
            while (end < s.size() && std::string_view("&, \t\r\n;\"'").find(s[end]) == std::string_view::npos) ++end;
        }
        if (end > j && std::string_view(s).substr(j, end - j) != redacted) s.replace(j, end - j, redacted);
        i = j + redacted.size();
    }
}

}  // namespace

std::string redact(std::string_view text, std::span<const std::string> secrets) {
    std::string s(text);
    // Literal secrets first (raw and percent-encoded: a token may appear in a query string).
    // Very short values are skipped: replacing every "x" would hide the log, not a secret.
    for (const std::string& secret : secrets) {
        if (secret.size() < 4) continue;
        replace_all(s, secret, redacted);
        const std::string encoded = detail::encode_label(secret);
        if (encoded != secret) replace_all(s, encoded, redacted);
    }
    redact_labels(s);
    return s;
}

debug_log::debug_log(std::ostream& err, bool enabled, std::vector<std::string> secrets)
    : err_(&err), enabled_(enabled), secrets_(std::move(secrets)) {}

void debug_log::write(std::string_view component, std::string_view text) { write(component, "DEBUG", text); }

void debug_log::write(std::string_view component, std::string_view level, std::string_view text) {
    if (!enabled_) return;
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    std::string line = stamp;
    line += " iotjobs.";
    line += component;
    line += ' ';
    line += level;
    line += " - ";
    line += redact(text, secrets_);
    if (line.empty() || line.back() != '\n') line += '\n';
    *err_ << line << std::flush;
}

std::function<void(log_level, std::string_view)> debug_log::sink(std::string component) {
    return [this, component = std::move(component)](log_level level, std::string_view text) {
        std::string_view name = "DEBUG";
        switch (level) {
        case log_level::error: name = "ERROR"; break;
        case log_level::warn: name = "WARNING"; break;
        case log_level::info: name = "INFO"; break;
        default: break;
        }
        write(component, name, text);
    };
}

std::function<void(const log_record&)> debug_log::record_sink(std::string component) {
    return [this, component = std::move(component)](const log_record& r) {
        std::string text;
        if (!r.operation.empty()) {
            text.append(r.operation);
            if (!r.thing_name.empty()) text.append(" thing=").append(r.thing_name);
            if (!r.job_id.empty()) text.append(" job=").append(r.job_id);
            if (r.execution_number) text.append(" execution=").append(std::to_string(*r.execution_number));
            if (!r.namespace_id.empty()) text.append(" namespace=").append(r.namespace_id);
            text.append(": ");
        }
        text.append(r.message);
        std::string name = component;
        if (!r.component.empty() && r.component != "client") name.append(".").append(r.component);
        write(name, r.level == log_level::warn ? "WARNING" : to_string(r.level), text);
    };
}

}  // namespace iotjobs::cli
