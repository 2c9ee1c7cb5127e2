// Shared config / credentials files: parsing and profile selection (see profile.hpp).
#include "endpoint/profile.hpp"

#include "util/text.hpp"

#include <iotjobs/error.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace iotjobs::detail {
namespace {

[[noreturn]] void config_error(const std::string& what) {
    throw std::system_error(make_error_code(client_errc::invalid_configuration), what);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) { return trim_if(s, is_space); }

std::string where(const std::string& path, unsigned line) { return path + " line " + std::to_string(line); }

// The variable, or null when unset or empty.
const char* lookup(const env_lookup& env, const char* name) {
    const char* v = env ? env(name) : nullptr;
    return v && *v ? v : nullptr;
}

// "~" and "~/x" expanded with HOME; "" when that is needed and HOME is unset.
std::string expand_home(std::string path, const env_lookup& env) {
    if (path.empty() || path[0] != '~' || (path.size() > 1 && path[1] != '/')) return path;
    const char* home = lookup(env, "HOME");
    if (!home) return {};
    return std::string(home) + path.substr(1);
}

std::string file_path(const env_lookup& env, const char* variable, const char* default_path) {
    if (const char* v = lookup(env, variable)) return expand_home(v, env);
    return expand_home(default_path, env);
}

// The words of a section header, split on whitespace.
std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        std::size_t j = i;
        while (j < s.size() && !is_space(s[j])) ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

void merge_into(ini_section& into, const ini_section& from) {
    for (const auto& [k, v] : from) into[k] = v;
}

}  // namespace

ini_sections parse_ini(std::string_view text, const std::string& path) {
    ini_sections out;
    ini_section* section = nullptr;
    ini_value* last = nullptr;    // the last top-level key of the current section
    bool last_is_parent = false;  // it had an empty value: indented lines are its sub-section
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
    unsigned line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++line_no;
        const std::size_t nl = text.find('\n', pos);
        const std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        const bool indented = is_space(raw.front());

        if (line.front() == '[') {
            const std::size_t close = line.find(']');
            if (close == std::string_view::npos)
                config_error(where(path, line_no) + ": a section header has no closing ']'");
            const std::string_view rest = trim(line.substr(close + 1));
            if (!rest.empty() && rest.front() != '#' && rest.front() != ';')
                config_error(where(path, line_no) + ": unexpected text after a section header");
            const std::string_view name = trim(line.substr(1, close - 1));
            if (name.empty()) config_error(where(path, line_no) + ": empty section name");
            section = &out[std::string(name)];
            last = nullptr;
            last_is_parent = false;
        } else if (indented && last) {
            if (last_is_parent) {
                const std::size_t eq = line.find('=');
                if (eq == std::string_view::npos)
                    config_error(where(path, line_no) + ": expected \"key = value\" in a sub-section");
                const std::string key = to_lower(trim(line.substr(0, eq)));
                if (key.empty()) config_error(where(path, line_no) + ": a setting has no name");
                ini_value& v = last->sub[key];
                v.value = std::string(trim(line.substr(eq + 1)));
                v.file = path;
                v.line = line_no;
            } else {
                last->value += '\n';
                last->value += line;
            }
        } else {
            if (!section) config_error(where(path, line_no) + ": a setting appears before any [section] header");
            const std::size_t eq = line.find('=');
            if (eq == std::string_view::npos)
                config_error(where(path, line_no) + ": expected \"key = value\", a [section] header or a comment");
            const std::string key = to_lower(trim(line.substr(0, eq)));
            if (key.empty()) config_error(where(path, line_no) + ": a setting has no name");
            ini_value& v = (*section)[key];
            v = ini_value{std::string(trim(line.substr(eq + 1))), path, line_no, {}};
            last = &v;
            last_is_parent = v.value.empty();
        }
    }
    return out;
}

ini_sections read_ini_file(const std::string& path) {
    if (path.empty()) return {};
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (st.type() == std::filesystem::file_type::not_found) return {};
    if (ec) config_error("Unable to read " + path + ": " + ec.message());
    if (st.type() == std::filesystem::file_type::directory) config_error("Unable to read " + path + ": a directory");
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        const int e = errno;
        config_error("Unable to read " + path + ": " + (e ? std::strerror(e) : "cannot open the file"));
    }
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) config_error("Unable to read " + path);
    return parse_ini(ss.str(), path);
}

std::string shared_config_path(const env_lookup& env) { return file_path(env, "AWS_CONFIG_FILE", "~/.aws/config"); }

std::string shared_credentials_path(const env_lookup& env) {
    return file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
}

const ini_value* profile_settings::get(std::string_view key) const {
    auto it = values.find(key);
    return it == values.end() || it->second.value.empty() ? nullptr : &it->second;
}

std::string profile_settings::describe() const {
    std::string s = "profile " + name + " (";
    s += config_path.empty() ? std::string("no config file") : config_path;
    s += ", ";
    s += credentials_path.empty() ? std::string("no credentials file") : credentials_path;
    s += ')';
    return s;
}

profile_settings load_profile(std::string_view explicit_name, std::string_view explicit_source, const env_lookup& env) {
    profile_settings p;
    if (!explicit_name.empty()) {
        p.name = std::string(explicit_name);
        p.source = std::string(explicit_source);
        p.explicit_choice = true;
    } else if (const char* v = lookup(env, "AWS_PROFILE")) {
        p.name = v;
        p.source = "AWS_PROFILE";
    } else if (const char* v2 = lookup(env, "AWS_DEFAULT_PROFILE")) {
        p.name = v2;
        p.source = "AWS_DEFAULT_PROFILE";
    } else {
        p.name = "default";
        p.source = "default";
    }
    p.config_path = shared_config_path(env);
    p.credentials_path = shared_credentials_path(env);
    const ini_sections config = read_ini_file(p.config_path);
    const ini_sections creds = read_ini_file(p.credentials_path);

    // Config file: [default], [profile NAME] ([profile default] after [default] when both exist,
    // both merged), [services NAME].
    const ini_section* plain_default = nullptr;
    const ini_section* profile_named = nullptr;
    for (const auto& [header, section] : config) {
        const auto w = words(header);
        if (w.size() == 1 && w[0] == "default" && p.name == "default")
            plain_default = &section;
        else if (w.size() == 2 && w[0] == "profile" && w[1] == p.name)
            profile_named = &section;
        else if (w.size() == 2 && w[0] == "services")
            merge_into(p.services[std::string(w[1])], section);
    }
    if (plain_default) {
        p.found = true;
        merge_into(p.values, *plain_default);
    }
    if (profile_named) {
        p.found = true;
        merge_into(p.values, *profile_named);
    }
    const ini_section* cred_section = nullptr;
    if (auto it = creds.find(p.name); it != creds.end()) {
        p.found = true;
        cred_section = &it->second;
        merge_into(p.values, it->second);
    }
    if (!p.found && p.name != "default")
        config_error("The config profile (" + p.name + ") could not be found (from " + p.source + "; looked in " +
                     (p.config_path.empty() ? std::string("no config file") : p.config_path) + " and " +
                     (p.credentials_path.empty() ? std::string("no credentials file") : p.credentials_path) + ")");

    const ini_section& cred_source =
        cred_section && cred_section->contains("aws_access_key_id") ? *cred_section : p.values;
    for (const char* k : {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})
        if (auto it = cred_source.find(k); it != cred_source.end()) p.credential_values[k] = it->second;
    return p;
}

const ini_value* services_endpoint_url(const profile_settings& p, std::string_view service) {
    const ini_value* s = p.get("services");
    if (!s) return nullptr;
    auto sec = p.services.find(s->value);
    if (sec == p.services.end())
        config_error("The " + p.describe() + " refers to [services " + s->value + "] (" + where(s->file, s->line) +
                     "), which the config file does not have");
    auto svc = sec->second.find(service);
    if (svc == sec->second.end()) return nullptr;
    auto url = svc->second.sub.find("endpoint_url");
    if (url == svc->second.sub.end() || url->second.value.empty()) return nullptr;
    return &url->second;
}

void throw_profile_error(const profile_settings& p, std::string_view key, const ini_value& v,
                         std::string_view problem) {
    config_error("Invalid value for " + std::string(key) + " in profile " + p.name + " (" + where(v.file, v.line) +
                 "): " + std::string(problem) + ", got \"" + v.value + "\"");
}

bool profile_bool(const profile_settings& p, std::string_view key, const ini_value& v) {
    const std::string l = to_lower(v.value);
    if (l == "true") return true;
    if (l == "false") return false;
    throw_profile_error(p, key, v, "expected true or false");
}

unsigned profile_positive(const profile_settings& p, std::string_view key, const ini_value& v) {
    unsigned n = 0;
    const auto& s = v.value;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || ptr != s.data() + s.size() || n == 0)
        throw_profile_error(p, key, v, "expected a whole number, 1 or more");
    return n;
}

}  // namespace iotjobs::detail
