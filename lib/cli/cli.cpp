// run_cli: the iotjobs program, from arguments and environment to an exit code. Help and version texts.
#include "cli/cli.hpp"

#include "http/proxy.hpp"

#include <iotjobs/version.hpp>

#include <boost/version.hpp>

#include <exception>

extern char** environ;  // POSIX

namespace iotjobs::cli {
namespace {

// Appends `text` wrapped at `width` columns, every line indented by `indent` spaces.
void append_wrapped(std::string& out, std::string_view text, std::size_t indent, std::size_t width = 78) {
    std::size_t col = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        std::size_t j = text.find(' ', i);
        if (j == std::string_view::npos) j = text.size();
        const std::string_view word = text.substr(i, j - i);
        if (word.empty()) break;
        if (col == 0) {
            out.append(indent, ' ');
            col = indent;
        } else if (col + 1 + word.size() > width) {
            out += '\n';
            out.append(indent, ' ');
            col = indent;
        } else {
            out += ' ';
            ++col;
        }
        out += word;
        col += word.size();
        i = j;
    }
    out += '\n';
}

void append_option_help(std::string& out, const option_spec& o) {
    out += "  ";
    out += o.name;
    if (o.kind == option_kind::value || o.kind == option_kind::value_list) {
        out += ' ';
        out += o.metavar;
    }
    out += '\n';
    append_wrapped(out, o.help, 6);
}

constexpr std::string_view exit_codes_text =
    "EXIT CODES\n"
    "  0    success\n"
    "  130  interrupted (SIGINT)\n"
    "  252  invalid arguments or parameter values; nothing was sent\n"
    "  253  configuration problem (no region, no credentials, malformed settings)\n"
    "  254  the service answered with an error\n"
    "  255  anything else (connection, TLS, timeouts, unreadable responses)\n";

}  // namespace

environment process_environment() {
    environment env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        const auto eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    return env;
}

std::string usage_text() {
    return "usage: iotjobs [options] <command> [parameters]\n"
           "To see help text, you can run:\n"
           "\n"
           "  iotjobs --help\n"
           "  iotjobs <command> help\n"
           "\n";
}

std::string version_text() {
    return "iotjobs/" IOTJOBS_VERSION_STRING " Boost/" + std::to_string(BOOST_VERSION / 100000) + "." +
           std::to_string(BOOST_VERSION / 100 % 1000) + "." + std::to_string(BOOST_VERSION % 100) + "\n";
}

std::string help_text() {
    std::string s;
    s += "iotjobs: AWS IoT Jobs operations, with the AWS CLI's option names and exit codes\n\n";
    s += "usage: iotjobs [options] <command> [parameters]\n\n";
    s += "COMMANDS\n";
    for (const auto& c : command_specs()) {
        s += "  ";
        s += c.name;
        s.append(c.name.size() < 32 ? 32 - c.name.size() : 1, ' ');
        s += c.summary;
        s += '\n';
    }
    s += "\nGLOBAL OPTIONS\n";
    for (const auto& o : global_option_specs()) append_option_help(s, o);
    s += "  --help, help\n      Show this text, or a command's with \"iotjobs <command> help\".\n";
    s += "  --version\n      Show the version.\n";
    s += "\nENVIRONMENT\n";
    append_wrapped(s,
                   "AWS_REGION, AWS_DEFAULT_REGION; AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; "
                   "AWS_ENDPOINT_URL_IOT, AWS_ENDPOINT_URL, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS; AWS_CA_BUNDLE; "
                   "AWS_MAX_ATTEMPTS, AWS_RETRY_MODE; AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_CONFIG_FILE, "
                   "AWS_SHARED_CREDENTIALS_FILE. Options win over the environment, which wins over the profile "
                   "(region, endpoint_url, ca_bundle, max_attempts, retry_mode, credentials) of the shared config "
                   "files, except that the keys of a profile named with --profile win over the environment's.",
                   2);
    s += '\n';
    s += exit_codes_text;
    return s;
}

std::string command_help_text(const command_spec& cmd) {
    std::string s;
    s += "NAME\n  ";
    s += cmd.name;
    s += " - ";
    s += cmd.summary;
    s += "\n\nDESCRIPTION\n";
    append_wrapped(s, cmd.description, 2);
    s += "\nSYNOPSIS\n  iotjobs ";
    s += cmd.name;
    s += '\n';
    const auto opts = cmd.options;
    for (std::size_t i = 0; i < opts.size(); ++i) {
        const option_spec& o = opts[i];
        s += "    ";
        if (o.kind == option_kind::value || o.kind == option_kind::value_list) {
            if (!o.required) s += '[';
            s += o.name;
            s += ' ';
            s += o.metavar;
            if (!o.required) s += ']';
            if (o.kind == option_kind::value_list) s += "...";
        } else if (i + 1 < opts.size() && opts[i + 1].dest == o.dest &&
                   (opts[i + 1].kind == option_kind::flag_true || opts[i + 1].kind == option_kind::flag_false)) {
            s += '[';
            s += o.name;
            s += " | ";
            s += opts[i + 1].name;
            s += ']';
            ++i;
        } else {
            s += '[';
            s += o.name;
            s += ']';
        }
        s += '\n';
    }
    s += "    [global options]\n\nOPTIONS\n";
    for (const auto& o : opts) append_option_help(s, o);
    s += "\nGLOBAL OPTIONS\n";
    for (const auto& o : global_option_specs()) append_option_help(s, o);
    s += '\n';
    s += cmd.details;
    s += cmd.exit_codes.empty() ? exit_codes_text : cmd.exit_codes;
    return s;
}

void print_failure(std::ostream& err, const failure& f) {
    if (f.show_usage) {
        err << usage_text() << "iotjobs: error: " << f.message << '\n' << std::flush;
    } else if (!f.message.empty()) {
        err << '\n' << f.message << '\n' << std::flush;
    }
}

int run_cli(std::span<const std::string> args, const environment& env, std::ostream& out, std::ostream& err,
            const run_options& ro) {
    try {
        // Hidden: the bash completion script (tools/iotjobs/completion.bash is a copy of it).
        if (args.size() == 2 && args[0] == "--completion" && args[1] == "bash") {
            out << completion_script() << std::flush;
            return exit_success;
        }
        auto parsed = parse_command_line(args);
        if (auto* f = std::get_if<failure>(&parsed)) {
            print_failure(err, *f);
            return f->exit_code;
        }
        const command_line& cl = std::get<command_line>(parsed);
        switch (cl.what) {
        case action::help: out << help_text() << std::flush; return exit_success;
        case action::command_help: out << command_help_text(*cl.command) << std::flush; return exit_success;
        case action::version: out << version_text() << std::flush; return exit_success;
        case action::run: break;
        }

        auto globals = to_global_options(cl.globals);
        if (auto* f = std::get_if<failure>(&globals)) {
            print_failure(err, *f);
            return f->exit_code;
        }
        const global_options& g = std::get<global_options>(globals);

        debug_log log(err, g.debug);
        // Whatever the environment holds as secrets stays out of the log, whoever would print it.
        for (std::string_view name : {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"}) {
            auto it = env.find(name);
            if (it != env.end()) log.add_secret(it->second);
        }
        // A proxy password (and its Basic credentials), however a message would carry it.
        for (std::string_view name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"}) {
            auto it = env.find(name);
            detail::proxy_url p;
            std::string ignored;
            if (it == env.end() || detail::parse_proxy_url(it->second, name, p, ignored) || p.password.empty())
                continue;
            log.add_secret(p.password);
            log.add_secret(p.authorization().substr(6));
        }
        if (log.enabled()) {
            std::string v = version_text();
            v.pop_back();
            log.write("cli", "version: " + v);
            std::string a = "arguments:";
            for (const auto& s : args) a += " " + s;
            log.write("cli", a);
        }
        const command_context ctx{cl, g, env, log, out, err, ro};
        return cl.command->run(ctx);
    } catch (const std::exception& e) {
        err << "\nInternal error: " << e.what() << '\n' << std::flush;
        return exit_other;
    }
}

int run_cli(int argc, char** argv, const environment& env, std::ostream& out, std::ostream& err) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i] ? argv[i] : "");
    return run_cli(args, env, out, err);
}

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err) {
    return run_cli(argc, argv, process_environment(), out, err);
}

}  // namespace iotjobs::cli
