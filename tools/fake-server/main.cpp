// iotjobs-fake-iot: the bundled fake AWS IoT Jobs endpoint (see docs/FAKE_SERVER.md).
#include "fake/server.hpp"
#include <iotjobs/version.hpp>

#include <cctype>
#include <csignal>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <pthread.h>

namespace {

constexpr const char* usage_text = R"(usage: iotjobs-fake-iot [options]

A fake AWS IoT Jobs control-plane endpoint: SigV4-verified DeleteJobExecution,
ListJobExecutionsForJob, ListJobExecutionsForThing, DescribeJobExecution and
CancelJobExecution, with throttling and fault injection. Prints its base URL as the
first line on stdout when ready; stops cleanly on SIGTERM/SIGINT.

Listening:
  --listen HOST:PORT        default 127.0.0.1:0 (0: a free port); [::1]:0 for IPv6
  --tls                     serve HTTPS with a throwaway CA + certificate (SAN 127.0.0.1, ::1, localhost)
  --ca-out FILE             with --tls: write that CA (PEM) to FILE before printing the URL
  --tls-cert FILE --tls-key FILE   serve HTTPS with this certificate chain and key (PEM)
  --threads N               I/O threads (default 2)
Authentication:
  --credentials FILE        JSON {"AKID": {"secret": "...", "session_token": "..."?}}
                            (default: AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY)
  --clock-offset SECONDS    skew the server clock (X-Amz-Date must be within 5 min of it)
  --account-id ID           account in thingArn (default 123456789012)
State:
  --seed FILE               JSON {"executions": [{"thingName", "jobId", "executionNumber",
                            "status", "namespaceId"?}]} (repeatable)
  --generate N              N executions: thing-<i> / job-<i % JOBS> / executionNumber i, i = 1..N
  --jobs JOBS               number of generated jobs (default 100)
  --status-mix MIX          e.g. SUCCEEDED=70,FAILED=10,IN_PROGRESS=10,QUEUED=10 (default SUCCEEDED=100)
  --random-seed S           seed for the status draw (default 1)
  --generate-namespace NS   give generated executions this namespaceId
Throttling (off by default):
  --rate-limit OP=RPS[,OP=RPS...]   token bucket per operation, e.g. DeleteJobExecution=10
  --burst N                 bucket size (default: max(1, RPS))
  --rate-limit-scope S      server (default: one set of buckets) or account (one set per access
                            key id of the requests' credentials: one fake, many accounts)
Faults (repeatable; see docs/FAKE_SERVER.md):
  --fault KIND=TRIGGER[,op=Operation][,ms=N][,dist=uniform:A:B|exp:MEAN]
      KIND: latency unavailable throttle reset-before reset-after truncate close stall
      TRIGGER: probability 0..1 | always | first:N | every:K
  --fault-seed S            seed for probabilistic faults and latency draws (default 1)
Other:
  --stats-on-exit           print the stats JSON to stderr on exit
  --presign N               do not serve: print N signed DeleteJobExecution requests for the
                            generated layout (METHOD TAB PATH TAB X-Amz-Date TAB Authorization)
  --presign-host HOST:PORT  Host header the requests will carry (required with --presign)
  --region R                region for --presign (default us-east-1)
  --help                    this text
  --version                 print the version
)";

[[noreturn]] void bad(const std::string& msg) {
    std::cerr << "iotjobs-fake-iot: " << msg << "\n(try --help)\n";
    std::exit(2);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) bad("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

long long to_ll(const std::string& opt, const std::string& v, long long min, long long max) {
    try {
        std::size_t pos = 0;
        long long x = std::stoll(v, &pos);
        if (pos != v.size() || x < min || x > max) throw std::out_of_range("range");
        return x;
    } catch (const std::exception&) {
        bad(opt + ": expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got '" + v +
            "'");
    }
}

// Everything the command line sets.
struct command_line {
    iotjobs::fake::server_options opts;
    std::string ca_out, rate_spec, presign_host, region = "us-east-1";
    std::vector<std::string> seeds;
    iotjobs::fake::generate_options gen;
    double burst = 0;
    bool stats_on_exit = false;
    long long presign = -1;
    bool exit_now = false;  // --help or --version printed: nothing else to do
};

// One option `a` (its name, without any "=value"). `value()` yields its argument; `flag()` rejects one.
// False when `a` is no option of this program.
template <class Value, class Flag>
bool apply_option(command_line& cl, const std::string& a, Value value, Flag flag) {
    using namespace iotjobs::fake;
    auto& opts = cl.opts;
    auto& gen = cl.gen;
    if (a == "--help" || a == "-h") {
        std::cout << usage_text;
        cl.exit_now = true;
    } else if (a == "--version") {
        flag();
        std::cout << "iotjobs-fake-iot/" IOTJOBS_VERSION_STRING "\n";
        cl.exit_now = true;
    } else if (a == "--listen")
        opts.listen = value();
    else if (a == "--tls") {
        flag();
        opts.tls = true;
    } else if (a == "--ca-out")
        cl.ca_out = value();
    else if (a == "--tls-cert")
        opts.tls_cert_file = value();
    else if (a == "--tls-key")
        opts.tls_key_file = value();
    else if (a == "--threads")
        opts.threads = static_cast<unsigned>(to_ll(a, value(), 1, 256));
    else if (a == "--credentials") {
        try {
            opts.credentials = parse_credentials_json(slurp(value()));
        } catch (const std::exception& e) {
            bad(e.what());
        }
    } else if (a == "--clock-offset")
        opts.clock_offset =
            std::chrono::seconds(to_ll(a, value(), -max_clock_offset_seconds, max_clock_offset_seconds));
    else if (a == "--account-id")
        opts.account_id = value();
    else if (a == "--seed")
        cl.seeds.push_back(value());
    else if (a == "--generate")
        gen.count = static_cast<std::uint64_t>(to_ll(a, value(), 0, 100000000));
    else if (a == "--jobs")
        gen.jobs = static_cast<std::uint64_t>(to_ll(a, value(), 1, 100000000));
    else if (a == "--status-mix") {
        std::string err;
        auto mix = parse_status_mix(value(), err);
        if (!mix) bad(err);
        gen.status_mix = *mix;
    } else if (a == "--random-seed")
        gen.random_seed = static_cast<std::uint64_t>(to_ll(a, value(), 0, INT64_MAX));
    else if (a == "--generate-namespace")
        gen.namespace_id = value();
    else if (a == "--rate-limit")
        cl.rate_spec += (cl.rate_spec.empty() ? "" : ",") + value();
    else if (a == "--rate-limit-scope") {
        auto sc = parse_rate_limit_scope(value());
        if (!sc) bad("--rate-limit-scope: expected server or account");
        opts.rate_scope = *sc;
    } else if (a == "--burst")
        cl.burst = static_cast<double>(to_ll(a, value(), 1, 1000000000));
    else if (a == "--fault") {
        std::string err;
        auto r = parse_fault(value(), err);
        if (!r) bad(err);
        opts.faults.push_back(*r);
    } else if (a == "--fault-seed")
        opts.fault_seed = static_cast<std::uint64_t>(to_ll(a, value(), 0, INT64_MAX));
    else if (a == "--stats-on-exit") {
        flag();
        cl.stats_on_exit = true;
    } else if (a == "--presign")
        cl.presign = to_ll(a, value(), 1, 100000000);
    else if (a == "--presign-host")
        cl.presign_host = value();
    else if (a == "--region")
        cl.region = value();
    else
        return false;
    return true;
}

// The options that only make sense together, and the rate limits built from --rate-limit/--burst.
void check_combinations(command_line& cl) {
    auto& opts = cl.opts;
    if (!cl.ca_out.empty() && !opts.tls) bad("--ca-out needs --tls");
    if (opts.tls_cert_file.empty() != opts.tls_key_file.empty()) bad("--tls-cert and --tls-key go together");
    if (!opts.tls_cert_file.empty()) {
        if (!cl.ca_out.empty()) bad("--ca-out only works with a generated certificate (--tls without --tls-cert)");
        opts.tls = true;
    }
    if (!cl.rate_spec.empty()) {
        std::string err;
        auto limits = iotjobs::fake::parse_rate_limits(cl.rate_spec, cl.burst, err);
        if (!limits) bad(err);
        opts.rate_limits = *limits;
    } else if (cl.burst > 0) {
        bad("--burst needs --rate-limit");
    }
    for (char c : cl.gen.namespace_id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
            bad("--generate-namespace: namespaceId must match [a-zA-Z0-9_-]+");
    if (cl.presign >= 0 && cl.presign_host.empty()) bad("--presign needs --presign-host HOST:PORT");
}

command_line parse_command_line(int argc, char** argv) {
    command_line cl;
    cl.opts.threads = 2;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size() && !cl.exit_now; ++i) {
        std::string a = args[i];
        std::string inline_value;
        bool has_inline = false;
        if (a.starts_with("--") && a.find('=') != std::string::npos) {
            inline_value = a.substr(a.find('=') + 1);
            a = a.substr(0, a.find('='));
            has_inline = true;
        }
        auto value = [&]() -> std::string {
            if (has_inline) return inline_value;
            if (i + 1 >= args.size()) bad(a + " needs a value");
            return args[++i];
        };
        auto flag = [&] {
            if (has_inline) bad(a + " takes no value");
        };
        if (!apply_option(cl, a, value, flag)) bad("unknown option " + args[i]);
    }
    if (!cl.exit_now) check_combinations(cl);
    return cl;
}

// Signals are taken synchronously by sigwait on the main thread; I/O threads inherit the mask.
sigset_t block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return set;
}

std::vector<iotjobs::fake::execution> read_seed_files(const std::vector<std::string>& files) {
    std::vector<iotjobs::fake::execution> seeded;
    for (auto& f : files) {
        try {
            auto items = iotjobs::fake::parse_seed_json(slurp(f));
            seeded.insert(seeded.end(), items.begin(), items.end());
        } catch (const std::exception& e) {
            bad(f + ": " + e.what());
        }
    }
    return seeded;
}

// Serves until SIGINT or SIGTERM; the process's exit status.
int serve(const command_line& cl) {
    using namespace iotjobs::fake;
    sigset_t set = block_stop_signals();
    auto seeded = read_seed_files(cl.seeds);
    std::unique_ptr<server> srv;
    try {
        srv = std::make_unique<server>(cl.opts);
        if (!seeded.empty()) srv->add_executions(seeded);
        if (cl.gen.count) srv->generate(cl.gen);
        srv->start();
        if (!cl.ca_out.empty()) srv->write_ca_file(cl.ca_out);
    } catch (const std::invalid_argument& e) {
        bad(e.what());
    } catch (const std::exception& e) {
        std::cerr << "iotjobs-fake-iot: " << e.what() << "\n";
        return 1;
    }
    std::cout << srv->base_url() << std::endl;  // first line, flushed
    std::cerr << "iotjobs-fake-iot: serving " << srv->base_url() << " with " << srv->execution_count()
              << " executions\n";

    int sig = 0;
    sigwait(&set, &sig);
    srv->stop();
    if (cl.stats_on_exit) std::cerr << srv->stats_json() << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const command_line cl = parse_command_line(argc, argv);
    if (cl.exit_now) return 0;
    if (cl.presign >= 0) {
        auto cred = cl.opts.credentials.begin();
        auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + cl.opts.clock_offset;
        std::cout << iotjobs::fake::presign_deletes(cl.presign_host, static_cast<std::uint64_t>(cl.presign),
                                                    cl.gen.jobs, cred->first, cred->second.secret_access_key, cl.region,
                                                    now);
        return 0;
    }
    return serve(cl);
}
