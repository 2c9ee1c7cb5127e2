// The shared state behind iotjobs::client and the attempt loop every operation runs.
#pragma once

#include "client/attempt_fsm.hpp"
#include "credentials/cache.hpp"
#include "credentials/provider.hpp"
#include "http/connection_pool.hpp"
#include "http/proxy.hpp"
#include "http/url.hpp"
#include "jobs/wire.hpp"
#include "observe/logger.hpp"
#include "observe/metrics.hpp"
#include "retry/clock_skew.hpp"
#include "retry/rate_limiter.hpp"
#include "retry/retry_quota.hpp"
#include "retry/standard_retry.hpp"
#include "sigv4/sigv4.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/config.hpp>
#include <iotjobs/diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <optional>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace iotjobs::detail {

class client_impl;

// One operation, allocated once per call: the cancellation signal of its coroutine, the strand
// that signal is emitted on, its links in the client's registry (an intrusive list under
// client_impl's ops_mutex_, so registering allocates nothing more) and in the admission queue,
// and (spawned_op) what starts its coroutine.
struct op_node : std::enable_shared_from_this<op_node> {
    explicit op_node(boost::asio::any_io_executor&& s) : strand(std::move(s)) {}
    virtual ~op_node() = default;
    op_node(const op_node&) = delete;
    op_node& operator=(const op_node&) = delete;
    boost::asio::cancellation_signal sig;
    boost::asio::any_io_executor strand;
    // Every cancellation type requested so far (read and written on `strand` only). The body
    // checks it after resetting its cancellation state: a request that arrived before the
    // coroutine first ran went to the state the reset replaced, and would be lost otherwise.
    boost::asio::cancellation_type requested = boost::asio::cancellation_type::none;
    // Records `t` and emits it (on `forward` while the call runs on an op runner, else on `sig`); a
    // call still waiting for admission is started at once (its body then sees
    // cancelled_before_start). On `strand`.
    void request(boost::asio::cancellation_type t);
    // The signal of the op runner running the call, while it runs it (set and cleared by the
    // runner, on `strand`).
    boost::asio::cancellation_signal* forward = nullptr;

    std::weak_ptr<client_impl> owner;
    op_node* prev = nullptr;  // guarded by client_impl::ops_mutex_
    op_node* next = nullptr;
    // The admission queue (guarded by client_impl::ops_mutex_): a queued node owns itself
    // (`keep`) until it is started or the client is destroyed.
    op_node* qnext = nullptr;
    op_node* qprev = nullptr;
    std::shared_ptr<op_node> keep;
    bool queued = false;
    // Ended (client_impl::retire_locked, guarded by ops_mutex_): a call ends once, whichever path
    // gets there first (an initiating function that throws, an abandoned coroutine).
    bool retired = false;
    // Written before the coroutine starts, read by it. Set when the call waited for admission:
    // when it was issued (its deadline and its wait for a connection count from then), and
    // whether that wait ended in the queue (acquire timeout or the operation deadline).
    bool waited_out = false;
    std::chrono::steady_clock::time_point queued_at{};
    // Noted by execute() once it counts the call as started, cleared once it has counted its end:
    // what client_impl::call_abandoned() closes the call's metrics with if the coroutine is
    // destroyed in between. `began`: the body ran (set once, never cleared).
    struct started_call {
        const operation_request* op = nullptr;
        const diagnostics* diag = nullptr;
        std::chrono::steady_clock::time_point at{};
    };
    mutable started_call started;
    mutable bool began = false;
    void note_started(const operation_request& o, const diagnostics& d,
                      std::chrono::steady_clock::time_point at) const noexcept {
        started = {&o, &d, at};
        began = true;
    }
    void note_ended() const noexcept { started.op = nullptr; }

    // Starts the operation's coroutine (once), its completion handled by client_impl::finished()
    // (or, on an op runner, by client_impl::next_call()).
    virtual void start(std::shared_ptr<client_impl> self) = 0;
    // Destroys what start() would have used, without calling anything (the client is gone).
    virtual void drop() noexcept = 0;
    // The operation's coroutine, for an op runner to await (client_impl::run_calls).
    virtual boost::asio::awaitable<error_code> body(const std::shared_ptr<client_impl>& self) = 0;
    // Completes the handler with `ec` (and the values) through its executor (client_ex when it has
    // none): inline when that is the running thread's.
    virtual void deliver(error_code ec, const boost::asio::any_io_executor& client_ex) = 0;
};

class client_impl : public std::enable_shared_from_this<client_impl> {
public:
    // Throws std::system_error (client_errc) naming the problem.
    client_impl(boost::asio::any_io_executor ex, client_config cfg);

    const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
    const client_config& config() const noexcept { return cfg_; }
    const endpoint_url& endpoint() const noexcept { return url_; }

    // Reads a 2xx body into an operation's result (list, describe); an error, with `what` saying
    // why, fails the call.
    using body_reader = std::function<error_code(std::string_view body, std::string& what)>;

    // The body of every operation: accepts every cancellation type (a call stopped after its
    // request was written may still have taken effect), then runs it: credentials, signing,
    // attempts with retries, then `read` (when given) on the 2xx body. Fills `d` either way (the
    // caller's, or one the call's node holds: not in this frame, which must stay small enough for
    // Asio's frame cache). The call is counted in the metrics and logged as it ends: a body `read`
    // rejects is a failure. `node` (may be null) says whether the call was cancelled before it
    // started and whether and how long it waited for admission. `op` and `read` must outlive the
    // coroutine (spawn() keeps them in the call's node), and so must `d`.
    boost::asio::awaitable<error_code> execute(const operation_request& op, diagnostics& d,
                                               const body_reader* read = nullptr, const op_node* node = nullptr);

    // Starts `make_body(impl, node)` as a coroutine on the operation's strand and completes
    // `handler` with its error code and `*values`, forwarding the handler's cancellation and
    // honouring client::cancel(). At most pool_config::max_size calls run at once; the others wait
    // for admission, FIFO, as a node that holds `make_body` and `handler` (no coroutine frame yet).
    // The body must call cancelled_before_start(node) right after resetting its cancellation
    // state; `make_body` (kept in the node, which outlives the coroutine) may hand the body
    // references to its own captures. `values` may be null for an operation without results.
    // `hex`: the handler's executor, when the initiation found it (operation_glue.hpp).
    template <class MakeBody, class... Ts>
    void spawn(MakeBody&& make_body, boost::asio::any_completion_handler<void(error_code, Ts...)>&& handler,
               std::shared_ptr<std::tuple<Ts...>>&& values = nullptr, handler_executor&& hex = {});

    // An operation's coroutine has ended: unregisters `n` and admits the calls that now fit.
    void finished(op_node& n);
    // A call whose coroutine was destroyed while suspended, unfinished: an Asio initiation threw
    // (std::bad_alloc; a thread that could not start), the exception left io_context::run(), and
    // Asio unwound the coroutine stack without resuming it. Ends the call as execute() would have,
    // with not_enough_memory (its metrics and closing record if execute() had started it, its
    // admission, its handler), while the client's io_context runs on this thread; when the
    // io_context is being destroyed instead, handlers are destroyed and never called, as for every
    // call.
    void call_abandoned(op_node& n) noexcept;
    // An admitted call that could not be started (std::bad_alloc): it is retired and its handler
    // completed with not_enough_memory through a post (never inside the function that failed to
    // start it); the queued call that takes its admission is started, and so on while starts fail.
    void start_failed(op_node& n) noexcept;
    // A single-threaded client runs its calls on op runners: a coroutine that runs one call after
    // another (a queued one, or the one its last call's handler issued: handed over), so that a
    // call is a nested coroutine, not a co_spawn of its own. Starts a runner with `first`.
    void start_runner(std::shared_ptr<op_node> first);
    // `n` was cancelled: if it still waits for admission, starts it at once (true).
    bool admit_cancelled(op_node& n);

    // Completes `handler` with `ec` (and default values) through its associated executor, never inline.
    template <class... Ts>
    void post_result(boost::asio::any_completion_handler<void(error_code, Ts...)> handler, error_code ec);

    void cancel_all();
    // Closes the pool for good (calls waiting for a connection and every later call fail with
    // client_errc::pool_closed), then cancel_all().
    void shutdown();
    client_stats stats() const;

    // True when `ec` is a failure to get credentials from a source that refreshes them
    // (credential_process, container, IMDS, STS, SSO) and has delivered a set before: a later
    // fetch may succeed, so the failure is the calls' that met it, not every later call's.
    bool transient_credentials_failure(const error_code& ec) const noexcept;
    client_metrics metrics() const;

    bool logging(log_level l) const noexcept { return log_.on(l); }
    void log(log_level l, std::string_view msg) const {
        if (logging(l)) log_.emit(l, "client", msg);
    }
    const detail::logger& get_logger() const noexcept { return log_; }

    std::chrono::seconds clock_offset() const noexcept { return offset_.get(); }

    // Turns on the adaptive (CUBIC) client-side rate limiter for every later attempt of this
    // client, as retry_mode::adaptive does from the start. The bulk engine's default pacing.
    void enable_adaptive_rate_limiter() noexcept { adaptive_on_.store(true, std::memory_order_relaxed); }

private:
    // A new strand for one operation: over the io_context's own executor when the client's
    // executor is one (cheaper to dispatch through than a strand over the type-erased executor).
    boost::asio::any_io_executor make_op_strand() const;
    void unregister_op(op_node& n);
    // Registers `n` and either admits it (true: start it) or queues it. Under ops_mutex_.
    bool admit_or_queue(op_node& n);
    // Takes `n` out of the admission queue and counts it as admitted; returns its hold on itself
    // (op_node::keep), for the caller to start it (or drop it) outside the lock. Under ops_mutex_.
    std::shared_ptr<op_node> unqueue(op_node& n);
    // The admission queue's timer: armed at the head's expiry while the queue is not empty.
    void arm_queue_timer() noexcept;
    void on_queue_timer(unsigned generation);
    // Starts `nodes` (taken out of the queue, each still held by its `keep`). One that cannot be
    // started (std::bad_alloc) ends with not_enough_memory (start_failed): none is lost.
    void start_all(std::vector<std::shared_ptr<op_node>>& nodes) noexcept;
    void start_or_fail(op_node& n) noexcept;
    struct op_runner;
    boost::asio::awaitable<void> run_calls(std::shared_ptr<op_runner> r, std::shared_ptr<op_node> n);
    // Under ops_mutex_: unregisters ended `n`, frees its admission, and returns the queued call
    // admitted in its place (its hold on itself: start it outside the lock), if one now fits.
    std::shared_ptr<op_node> retire_locked(op_node& n, bool admit_next = true) noexcept;
    // After a runner's call `done` ended with `ec`: retires it, delivers its completion, and
    // returns the call the runner takes next (the head of the admission queue, or the call the
    // handler issued meanwhile), or null.
    std::shared_ptr<op_node> next_call(op_runner& r, std::shared_ptr<op_node> done, error_code ec);
    // Under ops_mutex_: hands admitted `n` to the runner delivering a completion now (true), if any.
    bool hand_over(const std::shared_ptr<op_node>& n) noexcept;
    // An attempt's request (request_writer): write_signed() as the pool sends it.
    class signed_request;
    // Signs `op` with `snap` at the current time (with the clock-skew offset) and appends the whole
    // request to `out` (serialize_request; Authorization written last of the request's headers).
    void write_signed(const operation_request& op, const credentials_snapshot& snap, std::string& out,
                      const wire_target& where);
    std::optional<proxy_url> choose_transport_proxy(const env_lookup& env) const;
    // The next action of `fsm` after `ev`; reports the judgement of an exchange (report_judgement).
    attempt_action resume(attempt_fsm& fsm, const attempt_event& ev, const operation_request& op,
                          const http_response& resp, std::chrono::steady_clock::time_point sent_at);
    // execute()'s wait for the credentials cache (a refresh in progress, or a new one). On failure
    // the cache's explanation becomes d's message. A frame of its own: the usual path (a current
    // set) keeps the string out of every call's frame.
    boost::asio::awaitable<error_code> await_credentials(std::shared_ptr<const credentials_snapshot>& held,
                                                         diagnostics& d);
    // execute()'s first event, and its preparation of a send (false: not sent, `ev` says why).
    static attempt_event first_event(const op_node* node);
    static std::chrono::steady_clock::time_point waiting_since(const attempt_action& a, const op_node* node);
    bool begin_send(const attempt_action& a, const op_node* node, exchange_info& info, http_response& resp,
                    attempt_event& ev, std::chrono::steady_clock::time_point& sent_at) const;
    // What every call's attempt_fsm shares: the settings and the client-wide retry state below.
    attempt_env make_attempt_env();
    // The records (and the quota metric) of an attempt the machine judged.
    void report_judgement(const operation_request& op, const attempt_judgement& j, const http_response& resp,
                          std::chrono::steady_clock::time_point sent_at);
    // The metrics and closing record of execute()'s call: its start (zero: neither is on), then its end.
    std::chrono::steady_clock::time_point call_started(const op_node* node);
    void call_ended(const operation_request& op, const diagnostics& diag, const error_code& ec,
                    std::chrono::steady_clock::time_point start, bool log);
    // A record about `op` (component "client", operation, identity decoded into `id` on first use).
    log_record request_record(log_level l, const operation_request& op, std::optional<request_identity>& id) const;
    // The per-attempt debug record, after an exchange (ec: transport error, else resp is the answer).
    void log_attempt(const operation_request& op, std::optional<request_identity>& id, unsigned attempt,
                     const error_code& ec, const http_response& resp, const parsed_error* perr,
                     std::chrono::steady_clock::time_point started) const;
    // Info records about the connection an attempt used (opened, dropped).
    void log_connection(const exchange_info& info, const error_code& ec) const;
    // The call's closing record: error (credentials, configuration), warn (throttled), else debug.
    void log_call_end(const operation_request& op, const diagnostics& diag, const error_code& ec,
                      std::chrono::microseconds latency) const;
    void log_created() const;

    boost::asio::any_io_executor ex_;
    client_config cfg_;
    detail::logger log_;
    call_metrics metrics_;
    endpoint_url url_;
    std::shared_ptr<connection_pool> pool_;
    // Credentials. When the default chain's synchronous providers (static, environment, profile
    // keys) settle it at construction, creds_ holds the set for good (or is null with
    // creds_ec_/creds_why_ saying why, and every call fails with them): calls read it without a
    // lock or a copy, and its signing key slot is the hot path's key cache. Otherwise creds_cache_
    // (credential_process, container, IMDS: refreshed, single flight) is asked before every attempt.
    std::shared_ptr<const credentials_snapshot> creds_;
    std::shared_ptr<credentials_cache> creds_cache_;
    error_code creds_ec_;
    std::string creds_why_;
    sigv4::signing_key_cache keys_;  // for the debug-logging path (sign_headers)
    retry_quota quota_;
    standard_retry_strategy strategy_;
    default_random_source rng_;
    adaptive_rate_limiter adaptive_;
    std::atomic<bool> adaptive_on_{false};
    detail::clock_offset offset_;
    attempt_counters counters_;
    attempt_env env_;  // set last in the constructor

    mutable std::mutex ops_mutex_;  // guards what follows
    // Running operations (intrusive list through op_node::prev/next), for client::cancel().
    op_node* ops_head_ = nullptr;
    // Admission: at most admit_limit_ calls run their coroutine chain at once (one per connection
    // the pool may hold, so a call that cannot get a connection is a small node, not a suspended
    // chain); the others wait in a FIFO (op_node::qnext). A call leaves the queue when one ends,
    // or at once when it is cancelled, when the pool closes, or when its wait for a connection
    // expires (queue_wait_ after it was issued: the acquire timeout or the operation deadline,
    // whichever is sooner); then it may run beyond the limit. admitted_ counts the running ones.
    std::size_t admit_limit_ = 1;
    std::size_t admitted_ = 0;
    // The runner delivering a completion, that takes the calls admitted meanwhile (single-threaded).
    op_runner* finishing_ = nullptr;
    std::size_t queued_count_ = 0;
    op_node* queue_head_ = nullptr;
    op_node* queue_tail_ = nullptr;
    duration queue_wait_{};  // zero: a queued call waits as long as it takes
    boost::asio::steady_timer queue_timer_{ex_};
    bool queue_timer_armed_ = false;
    unsigned queue_timer_generation_ = 0;

public:
    ~client_impl();
};

error_code error_from_exception(std::exception_ptr ep) noexcept;

// True when the operation of `node` was cancelled before its coroutine first ran. Call on the
// operation's strand, after this_coro::reset_cancellation_state and before any side effect.
inline bool cancelled_before_start(const op_node* node) noexcept {
    return node && node->requested != boost::asio::cancellation_type::none;
}

template <class... Ts>
void client_impl::post_result(boost::asio::any_completion_handler<void(error_code, Ts...)> handler, error_code ec) {
    namespace asio = boost::asio;
    asio::post(ex_, [self = shared_from_this(), h = std::move(handler), ec]() mutable {
        auto hex = asio::get_associated_executor(h, self->ex_);
        asio::dispatch(hex, [h = std::move(h), ec]() mutable { std::move(h)(ec, Ts{}...); });
    });
}

// An operation as spawn() keeps it: what starts its coroutine, and the completion handler.
template <class MakeBody, class... Ts>
struct spawned_op final : op_node {
    using handler_type = boost::asio::any_completion_handler<void(error_code, Ts...)>;
    // (Everything by rvalue reference: moved once, into the node.)
    spawned_op(boost::asio::any_io_executor&& s, MakeBody&& b, handler_type&& h, std::shared_ptr<std::tuple<Ts...>>&& v,
               handler_executor&& e)
        : op_node(std::move(s)),
          make_body(std::move(b)),
          handler(std::move(h)),
          values(std::move(v)),
          hex(std::move(e)) {}
    MakeBody make_body;
    handler_type handler;
    std::shared_ptr<std::tuple<Ts...>> values;
    handler_executor hex;

    // Dispatches launch() onto the strand: co_spawn connects the signal's slot, which request()
    // emits on the strand, and the coroutine's first step must not see a cancellation yet. A
    // single-threaded client starts an op runner instead.
    void start(std::shared_ptr<client_impl> self) override {
        if (self->config().single_threaded) {
            self->start_runner(shared_from_this());
            return;
        }
        auto node = std::static_pointer_cast<spawned_op>(shared_from_this());
        const boost::asio::any_io_executor ex = strand;
        boost::asio::dispatch(ex, [self = std::move(self), node = std::move(node)]() mutable {
            node->launch(std::move(self), std::move(node));
        });
    }
    void launch(std::shared_ptr<client_impl> self, std::shared_ptr<spawned_op> node);
    void drop() noexcept override {
        handler_type h = std::move(handler);
        values.reset();
    }
    boost::asio::awaitable<error_code> body(const std::shared_ptr<client_impl>& self) override {
        return make_body(self, static_cast<const op_node*>(this));
    }
    void deliver(error_code ec, const boost::asio::any_io_executor& client_ex) override;
};

// True when `ex` is an io_context's plain executor and this thread is running that io_context:
// dispatch() would run a handler inline there, so calling it directly (its exception handed to
// dispatch) does the same without wrapping it for the type-erased executor.
template <class Executor>
bool runs_here(const Executor& ex) noexcept {
    if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
        const auto* io = ex.template target<boost::asio::io_context::executor_type>();
        return io != nullptr && io->running_in_this_thread();
    } else {
        return false;
    }
}

template <class MakeBody, class... Ts>
void spawned_op<MakeBody, Ts...>::deliver(error_code ec, const boost::asio::any_io_executor& client_ex) {
    namespace asio = boost::asio;
    const auto complete = [&](auto&& ex) {
        auto call = [h = std::move(handler), ec, values = std::move(values)]() mutable {
            auto hslot = asio::get_associated_cancellation_slot(h);
            if (hslot.is_connected()) hslot.clear();
            if constexpr (sizeof...(Ts) == 0) {
                (void)values;
                std::move(h)(ec);
            } else {
                std::apply([&](auto&... v) { std::move(h)(ec, std::move(v)...); }, *values);
            }
        };
        if (!runs_here(ex)) {
            asio::dispatch(ex, std::move(call));
            return;
        }
        try {
            call();
        } catch (...) {
            // What dispatch() does with the exception of a handler it runs inline: the io_context
            // keeps it, and run() throws it once the handler running now returns.
            asio::dispatch(ex, [e = std::current_exception()] { std::rethrow_exception(e); });
        }
    };
    if (!hex.known)  // a type-erased lookup (two allocations)
        complete(asio::get_associated_executor(handler, client_ex));
    else
        complete(hex.ex ? hex.ex : client_ex);
}

template <class MakeBody, class... Ts>
void spawned_op<MakeBody, Ts...>::launch(std::shared_ptr<client_impl> self, std::shared_ptr<spawned_op> node) {
    namespace asio = boost::asio;
    const asio::any_io_executor ex = strand;
    // The completion runs on the strand too (co_spawn's executor: the handler has none of its own).
    // Destroyed uncalled once the body had begun, the coroutine was destroyed unfinished (Asio
    // unwinding the stack after an initiation threw): the call ends there (call_abandoned). Before
    // that, co_spawn threw: the catch below ends the call.
    struct completion {
        std::shared_ptr<client_impl> self;
        std::shared_ptr<spawned_op> node;
        void operator()(std::exception_ptr ep, error_code ec) {
            const auto n = std::move(node);
            self->finished(*n);
            if (ep) ec = error_from_exception(ep);
            n->deliver(ec, self->executor());
        }
        completion(std::shared_ptr<client_impl> s, std::shared_ptr<spawned_op> n) noexcept
            : self(std::move(s)), node(std::move(n)) {}
        completion(completion&&) noexcept = default;
        completion& operator=(completion&&) = delete;
        ~completion() {
            if (node && node->began) self->call_abandoned(*node);
        }
    };
    const std::shared_ptr<spawned_op> hold = node;  // (the completion may be gone in the catch)
    try {
        asio::co_spawn(ex, make_body(self, static_cast<const op_node*>(this)),
                       asio::bind_cancellation_slot(sig.slot(), completion(self, std::move(node))));
    } catch (...) {  // (std::bad_alloc) not started, or its body threw at once: ended with not_enough_memory
        self->start_failed(*hold);
    }
}

template <class MakeBody, class... Ts>
void client_impl::spawn(MakeBody&& make_body, boost::asio::any_completion_handler<void(error_code, Ts...)>&& handler,
                        std::shared_ptr<std::tuple<Ts...>>&& values, handler_executor&& hex) {
    namespace asio = boost::asio;
    // The operation runs on its own strand: cancellation requests (from the handler's slot, on the
    // caller's thread, or from client::cancel()) are dispatched onto it, never run concurrently
    // with the coroutine, even on a multi-threaded io_context.
    if constexpr (sizeof...(Ts) != 0) {
        if (!values) values = std::make_shared<std::tuple<Ts...>>();
    }
    // From Asio's per-thread cache when issued on a thread running the io_context (the usual case: a
    // call issued by a handler or a coroutine), where its block goes back when the call ends.
    static_assert(!std::is_reference_v<MakeBody>, "spawn() takes the body as an rvalue");
    auto node = std::allocate_shared<spawned_op<MakeBody, Ts...>>(asio::recycling_allocator<void>(), make_op_strand(),
                                                                  std::move(make_body), std::move(handler),
                                                                  std::move(values), std::move(hex));
    node->owner = weak_from_this();
    auto slot = asio::get_associated_cancellation_slot(node->handler);
    if (slot.is_connected())
        slot.assign(
            [node](asio::cancellation_type t) { asio::dispatch(node->strand, [node, t] { node->request(t); }); });
    bool now;
    {
        std::lock_guard lk(ops_mutex_);
        now = admit_or_queue(*node) && !hand_over(node);
    }
    if (!now) return;
    try {
        node->start(shared_from_this());
    } catch (...) {  // (std::bad_alloc) the initiating function throws: the call ends here (its
                     // body, if it started inline, is wound up by call_abandoned, metrics only)
        if (slot.is_connected()) slot.clear();
        finished(*node);
        throw;
    }
}

}  // namespace iotjobs::detail
