// The parsers of what the credential sources answer, apart from their I/O (so that the fuzz
// targets of test/fuzz/ can reach them): credential_process / container / IMDS JSON, the STS XML
// answer, the SSO token cache and GetRoleCredentials JSON, ISO 8601, the command-line split and
// the URLs fetched (parse_fetch_url).
#include "credentials/http_fetch.hpp"
#include "credentials/parse.hpp"
#include "credentials/provider.hpp"
#include "util/secret.hpp"

#include <boost/json.hpp>

#include <utility>

namespace iotjobs::detail {

namespace json = boost::json;

error_code parse_credentials_json(std::string_view body, std::string_view token_key, bool require_version,
                                  resolved_credentials& out, std::string& why) {
    const auto fail = [&](std::string msg) {
        why = std::move(msg);
        return make_error_code(client_errc::credentials_error);
    };
    error_code ec;
    json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
    if (ec || !v.is_object()) return fail("the answer is not a JSON object");
    const json::object& o = v.as_object();
    if (require_version) {
        const json::value* ver = o.if_contains("Version");
        if (!ver) return fail("the JSON has no Version (it must be 1)");
        if (!ver->is_int64() || ver->as_int64() != 1) return fail("unsupported Version (it must be the integer 1)");
    }
    auto str = [&](std::string_view key, std::string& dst, bool required) -> bool {
        const json::value* f = o.if_contains(json::string_view(key.data(), key.size()));
        if (!f || f->is_null()) {
            if (required) why = "the JSON has no " + std::string(key);
            return !required;
        }
        if (!f->is_string()) {
            why = std::string(key) + " is not a string";
            return false;
        }
        dst.assign(f->as_string().data(), f->as_string().size());
        if (required && dst.empty()) {
            why = std::string(key) + " is empty";
            return false;
        }
        return true;
    };
    resolved_credentials r;
    std::string expiration;
    if (!str("AccessKeyId", r.value.access_key_id, true) || !str("SecretAccessKey", r.value.secret_access_key, true) ||
        !str(token_key, r.value.session_token, false) || !str("Expiration", expiration, false))
        return make_error_code(client_errc::credentials_error);
    if (!expiration.empty()) {
        auto t = parse_iso8601(expiration);
        if (!t) return fail("Expiration \"" + expiration + "\" is not an ISO 8601 date-time (years 1900-2199)");
        r.expiration = *t;
    }
    out.value = std::move(r.value);
    out.expiration = r.expiration;
    return {};
}

std::optional<std::vector<std::string>> shell_split(std::string_view s, std::string& error) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) words.push_back(std::move(cur)), cur.clear(), in_word = false;
            ++i;
        } else if (c == '\'') {
            const auto end = s.find('\'', i + 1);
            if (end == std::string_view::npos) {
                error = "No closing quotation";
                return std::nullopt;
            }
            cur.append(s.substr(i + 1, end - i - 1));
            in_word = true;
            i = end + 1;
        } else if (c == '"') {
            in_word = true;
            ++i;
            for (;;) {
                if (i >= s.size()) {
                    error = "No closing quotation";
                    return std::nullopt;
                }
                const char d = s[i];
                if (d == '"') {
                    ++i;
                    break;
                }
                if (d == '\\' && i + 1 < s.size() &&
                    (s[i + 1] == '\\' || s[i + 1] == '"' || s[i + 1] == '$' || s[i + 1] == '`' || s[i + 1] == '\n')) {
                    cur += s[i + 1];
                    i += 2;
                    continue;
                }
                cur += d;
                ++i;
            }
        } else if (c == '\\') {
            if (i + 1 >= s.size()) {
                error = "No escaped character";
                return std::nullopt;
            }
            if (s[i + 1] != '\n') {
                cur += s[i + 1];
                in_word = true;
            }  // backslash-newline: a line continuation, which starts no word (it made an empty one)
            i += 2;
        } else {
            cur += c;
            in_word = true;
            ++i;
        }
    }
    if (in_word) words.push_back(std::move(cur));
    return words;
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view t) {
    auto digits = [&](std::size_t pos, std::size_t n, int& v) {
        if (pos + n > t.size()) return false;
        v = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const char c = t[pos + k];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        return true;
    };
    int Y, M, D, h, m, sec;
    if (!digits(0, 4, Y) || t.size() < 19 || t[4] != '-' || !digits(5, 2, M) || t[7] != '-' || !digits(8, 2, D) ||
        (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(11, 2, h) || t[13] != ':' || !digits(14, 2, m) ||
        t[16] != ':' || !digits(17, 2, sec))
        return std::nullopt;
    using namespace std::chrono;
    const year_month_day ymd{year(Y), month(static_cast<unsigned>(M)), day(static_cast<unsigned>(D))};
    if (!ymd.ok() || h > 23 || m > 59 || sec > 60) return std::nullopt;
    std::size_t i = 19;
    nanoseconds frac{0};
    if (i < t.size() && (t[i] == '.' || t[i] == ',')) {
        ++i;
        std::int64_t scale = 100000000;
        const std::size_t start = i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
            frac += nanoseconds((t[i] - '0') * scale);
            scale /= 10;
            ++i;
        }
        if (i == start) return std::nullopt;
    }
    minutes offset{0};
    if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
        ++i;
    } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
        const int sign = t[i] == '-' ? -1 : 1;
        int oh, om;
        if (!digits(i + 1, 2, oh)) return std::nullopt;
        std::size_t j = i + 3;
        if (j < t.size() && t[j] == ':') ++j;
        if (!digits(j, 2, om)) return std::nullopt;
        offset = minutes(sign * (oh * 60 + om));
        i = j + 2;
    } else {
        return std::nullopt;  // a time without a zone is ambiguous
    }
    if (i != t.size()) return std::nullopt;
    // In whole seconds first (any 4-digit year fits): system_clock counts nanoseconds, so a year
    // such as 9999 would overflow int64 when converted. Outside [1900, 2200): nullopt.
    const sys_seconds whole = sys_days(ymd) + hours(h) + minutes(m) + seconds(sec) - offset;
    if (whole < iso8601_min || whole >= iso8601_max) return std::nullopt;
    return time_point_cast<system_clock::duration>(whole) + duration_cast<system_clock::duration>(frac);
}

std::string xml_unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        static constexpr std::pair<std::string_view, char> entities[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (const auto& [e, c] : entities)
            if (s.substr(i, e.size()) == e) {
                out += c;
                i += e.size() - 1;
                done = true;
                break;
            }
        if (!done) out += '&';
    }
    return out;
}

// The text of the first <tag>...</tag> inside `xml` (no attributes expected), or nullopt.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
    const auto a = xml.find(open);
    if (a == std::string_view::npos) return std::nullopt;
    const auto b = xml.find(close, a + open.size());
    if (b == std::string_view::npos) return std::nullopt;
    return xml_unescape(xml.substr(a + open.size(), b - a - open.size()));
}

std::string sts_error_summary(std::string_view body) {
    std::string msg;
    if (auto code = xml_text(body, "Code")) msg += " " + *code;
    if (auto m = xml_text(body, "Message")) msg += ": " + *m;
    return msg;
}

bool parse_sts_credentials_xml(std::string_view body, resolved_credentials& out, std::string& why) {
    const auto creds_at = body.find("<Credentials>");
    const std::string_view creds_xml = creds_at == std::string_view::npos ? std::string_view() : body.substr(creds_at);
    auto akid = xml_text(creds_xml, "AccessKeyId");
    auto secret = xml_text(creds_xml, "SecretAccessKey");
    auto token = xml_text(creds_xml, "SessionToken");
    auto exp = xml_text(creds_xml, "Expiration");
    if (!akid || !secret || !token || !exp || akid->empty() || secret->empty()) {
        why = "the answer has no Credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration)";
        return false;
    }
    auto t = parse_iso8601(*exp);
    if (!t) {
        why = "Expiration \"" + *exp + "\" is not an ISO 8601 date-time (years 1900-2199)";
        return false;
    }
    out.value = {std::move(*akid), std::move(*secret), std::move(*token)};
    out.expiration = *t;
    return true;
}

bool parse_sso_token_cache(std::string_view text, std::string& token,
                           std::optional<std::chrono::system_clock::time_point>& expires) {
    error_code jec;
    json::value tv = json::parse(json::string_view(text.data(), text.size()), jec);
    json::object* to = (!jec && tv.is_object()) ? &tv.as_object() : nullptr;
    json::value* at = to ? to->if_contains("accessToken") : nullptr;
    const json::value* ex = to ? to->if_contains("expiresAt") : nullptr;
    const bool ok = at && at->is_string() && ex && ex->is_string();
    if (ok) {
        expires = parse_iso8601(std::string_view(ex->as_string().data(), ex->as_string().size()));
        token.assign(at->as_string().data(), at->as_string().size());
    }
    // The parsed copy of the token goes with tv; `token` is left untouched on failure.
    if (at && at->is_string()) secure_wipe(at->as_string().data(), at->as_string().size());
    return ok;
}

bool parse_role_credentials_json(std::string_view body, resolved_credentials& out) {
    error_code jec;
    json::value rv = json::parse(json::string_view(body.data(), body.size()), jec);
    const json::object* rc = nullptr;
    if (!jec && rv.is_object())
        if (const auto* v = rv.as_object().if_contains("roleCredentials"); v && v->is_object()) rc = &v->as_object();
    auto field = [&](const char* k) -> std::string {
        const json::value* v = rc ? rc->if_contains(k) : nullptr;
        return v && v->is_string() ? std::string(v->as_string().data(), v->as_string().size()) : std::string();
    };
    const json::value* exp = rc ? rc->if_contains("expiration") : nullptr;
    credentials c{field("accessKeyId"), field("secretAccessKey"), field("sessionToken")};
    if (c.access_key_id.empty() || c.secret_access_key.empty() || !exp || !exp->is_number()) return false;
    // Milliseconds since the epoch, within the years parse_iso8601 accepts: a larger number would
    // overflow the conversion to system_clock's nanoseconds (and a double out of int64's range
    // cannot even be converted).
    using namespace std::chrono;
    constexpr std::int64_t lo = duration_cast<milliseconds>(iso8601_min.time_since_epoch()).count();
    constexpr std::int64_t hi = duration_cast<milliseconds>(iso8601_max.time_since_epoch()).count();
    std::int64_t ms = 0;
    if (exp->is_int64()) {
        ms = exp->as_int64();
    } else if (exp->is_uint64()) {
        if (exp->as_uint64() >= static_cast<std::uint64_t>(hi)) return false;
        ms = static_cast<std::int64_t>(exp->as_uint64());
    } else {
        const double d = exp->as_double();
        if (!(d >= static_cast<double>(lo) && d < static_cast<double>(hi))) return false;
        ms = static_cast<std::int64_t>(d);
    }
    if (ms < lo || ms >= hi) return false;
    out.value = std::move(c);
    out.expiration = system_clock::time_point(duration_cast<system_clock::duration>(milliseconds(ms)));
    return true;
}

bool parse_fetch_url(std::string_view url, http_fetch_request& out, bool& https, std::string& why) {
    std::string_view rest;
    if (url.substr(0, 7) == "http://") {
        https = false;
        rest = url.substr(7);
    } else if (url.substr(0, 8) == "https://") {
        https = true;
        rest = url.substr(8);
    } else {
        why = "the URL must start with http:// or https://";
        return false;
    }
    for (char c : url)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            // It would reach the request line or the Host header as it is (CR LF: a header of its own).
            why = "the URL contains a space or a control character";
            return false;
        }
    const auto slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    std::string_view target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos) {
        why = "the URL must not carry user information";
        return false;
    }
    std::string_view host, port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            why = "unterminated IPv6 address";
            return false;
        }
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                why = "unexpected text after the IPv6 address";
                return false;
            }
            port = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (host.empty()) {
        why = "the URL has no host";
        return false;
    }
    if (port.empty()) port = https ? "443" : "80";
    unsigned long port_number = 0;
    for (char c : port) {
        if (c < '0' || c > '9') {
            why = "the port is not a number";
            return false;
        }
        if (port_number <= 65535) port_number = port_number * 10 + static_cast<unsigned>(c - '0');
    }
    if (port_number < 1 || port_number > 65535) {
        why = "the port is not between 1 and 65535";
        return false;
    }
    if (target.front() == '?') {
        out.target = "/";
        out.target.append(target);
    } else {
        out.target = std::string(target);
    }
    out.host = std::string(host);
    out.port = std::string(port);
    return true;
}

}  // namespace iotjobs::detail
