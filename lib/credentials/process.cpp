// credential_process: the profile's command, split as botocore splits it (shlex), run without a
// shell through posix_spawnp; stdout and stderr read through Asio pipes and the exit awaited
// through a pidfd (Linux 5.3+; else waitpid polled on a timer), so no thread blocks.
#include "credentials/provider.hpp"

#include "endpoint/profile.hpp"
#include "util/text.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace iotjobs::detail {

namespace asio = boost::asio;

namespace {

// Reads a pipe to its end, keeping at most `limit` bytes (the rest is read and dropped).
asio::awaitable<void> read_all(asio::posix::stream_descriptor& d, std::string& out, std::size_t limit) {
    char buf[4096];
    for (;;) {
        error_code ec;
        std::size_t n = co_await d.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (n > 0 && out.size() < limit) out.append(buf, std::min(n, limit - out.size()));
        if (ec) co_return;  // eof (or a read error: the exit status tells the rest)
    }
}

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

// The process's stderr as quoted in an error: without its trailing line ends and blanks.
std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || is_blank(s.back()))) s.remove_suffix(1);
    return s;
}

// Runs args (no shell), reading its stdout (up to 1 MiB) and stderr (up to 4 KiB); status: its
// wait status.
asio::awaitable<error_code> run_process(const std::vector<std::string>& args, int& status, std::string& out,
                                        std::string& err, std::string& why) {
    using namespace asio::experimental::awaitable_operators;
    auto ex = co_await asio::this_coro::executor;
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        co_return error_code(errno, boost::system::system_category());
    }
    fd_guard out_r{out_pipe[0]}, out_w{out_pipe[1]};
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        co_return error_code(errno, boost::system::system_category());
    }
    fd_guard err_r{err_pipe[0]}, err_w{err_pipe[1]};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        co_return credentials_failed(why, "cannot run " + args[0] + ": " + std::strerror(rc));
    }
    ::close(out_w.fd), out_w.fd = -1;
    ::close(err_w.fd), err_w.fd = -1;

    asio::posix::stream_descriptor out_d(ex, out_r.fd), err_d(ex, err_r.fd);
    out_r.fd = err_r.fd = -1;  // owned by the descriptors now
    co_await (read_all(out_d, out, 1 << 20) && read_all(err_d, err, 4096));

    // The pipes are closed: wait for the exit without blocking.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        asio::posix::stream_descriptor pd(ex, pidfd);
        error_code wec;
        co_await pd.async_wait(asio::posix::stream_descriptor::wait_read,
                               asio::redirect_error(asio::use_awaitable, wec));
    }
    asio::steady_timer t(ex);
    for (;;) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0) {
            if (errno == EINTR) continue;
            status = 0;  // ECHILD: SIGCHLD ignored by the program, the status is lost; judge by the output
            break;
        }
        t.expires_after(std::chrono::milliseconds(5));
        error_code wec;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, wec));
    }
    co_return error_code{};
}

asio::awaitable<error_code> get_process_credentials(const profile_settings& p, const env_lookup&,
                                                    resolved_credentials& out, std::string& why) {
    const ini_value* cmd = p.get("credential_process");
    const std::string where =
        "credential_process of profile " + p.name + " (" + cmd->file + " line " + std::to_string(cmd->line) + ")";
    std::string split_error;
    auto argv = shell_split(cmd->value, split_error);
    if (!argv || argv->empty()) {
        co_return credentials_failed(why,
                                     where + ": cannot split the command: " + (argv ? "it is empty" : split_error));
    }
    int status = 0;
    std::string stdout_text, stderr_text;
    error_code ec = co_await run_process(*argv, status, stdout_text, stderr_text, why);
    if (ec) {
        why = where + ": " + why;
        co_return ec;
    }
    if (status != 0) {
        why = where + ": " + (*argv)[0] +
              (WIFSIGNALED(status) ? " was killed by signal " + std::to_string(WTERMSIG(status))
                                   : " exited with status " + std::to_string(WEXITSTATUS(status)));
        if (auto e = trimmed(stderr_text); !e.empty()) why += ": " + std::string(e);
        co_return make_error_code(client_errc::credentials_error);
    }
    resolved_credentials r;
    std::string jwhy;
    if (error_code jec = parse_credentials_json(stdout_text, "SessionToken", true, r, jwhy)) {
        why = where + ": invalid output: " + jwhy;  // never the output itself (secrets)
        co_return jec;
    }
    if (r.expiration && *r.expiration <= std::chrono::system_clock::now()) {
        co_return credentials_failed(
            why, where + ": the credentials it returned expired already (Expiration is in the past)");
    }
    out.value = std::move(r.value);
    out.expiration = r.expiration;
    out.source = "credential_process (profile " + p.name + ")";
    co_return error_code{};
}

bool has_credential_process(const profile_settings& p) { return p.get("credential_process") != nullptr; }

constexpr profile_source process_source{"credential_process", has_credential_process, " has no credential_process",
                                        get_process_credentials};

}  // namespace

std::unique_ptr<credentials_provider> make_process_provider(std::string profile, env_lookup env) {
    return std::make_unique<profile_driven_provider>(process_source, std::move(profile), std::move(env));
}

}  // namespace iotjobs::detail
