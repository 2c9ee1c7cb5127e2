#include "credentials/cache.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace iotjobs::detail {

namespace asio = boost::asio;
using sys_clock = std::chrono::system_clock;

credentials_cache::credentials_cache(asio::any_io_executor ex, credentials_chain chain, credentials_cache_params params)
    : ex_(std::move(ex)), chain_(std::move(chain)), params_(std::move(params)) {
    rng_.seed(static_cast<std::minstd_rand::result_type>(params_.seed ? params_.seed : std::random_device{}()));
}

std::shared_ptr<const credentials_snapshot> credentials_cache::try_current() {
    auto s = current_.load(std::memory_order_acquire);
    if (!s || !s->expiration) return s;
    const auto t = now();
    if (t < s->refresh_at) return s;
    if (t >= s->must_refresh_at) return nullptr;
    // Advisory window: one background refresh, everybody goes on with the current set.
    std::lock_guard lk(mutex_);
    if (!flight_ && t >= next_retry_) start_flight_locked();
    return s;
}

std::shared_ptr<credentials_cache::flight> credentials_cache::join_or_use(
    std::shared_ptr<const credentials_snapshot>& out) {
    std::lock_guard lk(mutex_);
    auto s = current_.load(std::memory_order_acquire);
    const auto t = now();
    const bool usable = s && (!s->expiration || t < s->must_refresh_at);
    const bool valid = s && (!s->expiration || t < *s->expiration);
    if (usable || (!flight_ && valid && t < next_retry_)) {
        // Fresh enough, or a refresh failed a moment ago and the set is still valid.
        out = std::move(s);
        return nullptr;
    }
    return flight_ ? flight_ : start_flight_locked();
}

void credentials_cache::resume(asio::any_completion_handler<void()> h) {
    // (1.81's any_completion_executor takes dispatch, not post: hop through ex_ first.)
    asio::post(ex_, [h = std::move(h), ex = ex_]() mutable {
        auto hex = asio::get_associated_executor(h, ex);
        asio::dispatch(hex, [h = std::move(h)]() mutable { std::move(h)(); });
    });
}

void credentials_cache::add_waiter(flight& f, asio::any_completion_handler<void()> h) {
    std::unique_lock lk(mutex_);
    if (f.done) {
        lk.unlock();
        resume(std::move(h));
        return;
    }
    const std::uint64_t id = ++next_waiter_id_;
    // The erased handler's own slot (fed by the awaiting coroutine's): it lives and dies with the
    // handler, so the lambda below never outlives the wait. Until the waiter resumes, its frame
    // keeps f and (through the client) this cache alive: raw pointers are safe.
    auto slot = h.get_cancellation_slot();
    if (slot.is_connected())
        slot.assign([self = this, fp = &f, id](asio::cancellation_type) { self->cancel_waiter(*fp, id); });
    f.waiters.emplace_back(id, std::move(h));
}

void credentials_cache::cancel_waiter(flight& f, std::uint64_t id) {
    std::list<std::pair<std::uint64_t, asio::any_completion_handler<void()>>> taken;
    {
        std::lock_guard lk(mutex_);
        for (auto it = f.waiters.begin(); it != f.waiters.end(); ++it)
            if (it->first == id) {
                taken.splice(taken.end(), f.waiters, it);
                break;
            }
    }
    // Not found: complete() already took it, its resumption is on the way.
    for (auto& w : taken) resume(std::move(w.second));
}

bool credentials_cache::done(const flight& f) {
    std::lock_guard lk(mutex_);
    return f.done;
}

asio::awaitable<error_code> credentials_cache::async_get(std::shared_ptr<const credentials_snapshot>& out,
                                                         std::string& why) {
    // The decisions under the mutex are made in plain functions: no co_return under a lock.
    std::shared_ptr<flight> f = join_or_use(out);
    if (!f) co_return error_code{};
    // The initiation captures only raw pointers (f is kept alive by this frame): GCC 12 destroys
    // temporaries of a co_await expression twice, which dropped a captured shared_ptr's count once
    // too often.
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [self = this, fp = f.get()](auto handler) {
            self->add_waiter(*fp, asio::any_completion_handler<void()>(std::move(handler)));
        },
        asio::use_awaitable);
    if (!done(*f)) co_return make_error_code(asio::error::operation_aborted);  // cancelled
    // f is done: its fields no longer change.
    if (f->result) {
        out = f->result;
        co_return error_code{};
    }
    why = f->why;
    co_return f->ec;
}

std::shared_ptr<credentials_cache::flight> credentials_cache::start_flight_locked() {
    flight_ = std::make_shared<flight>();
    auto f = flight_;
    fetches_.fetch_add(1, std::memory_order_relaxed);
    auto self = shared_from_this();
    // The result travels in a shared object, not as the coroutine's value (GCC 12 returned a
    // class with strings through co_spawn's completion garbled).
    auto res = std::make_shared<fetch_result>();
    asio::co_spawn(ex_, run_fetch(self, res), [self, f, res](std::exception_ptr ep) {
        if (ep) {
            *res = {};
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                res->why = std::string("credentials fetch failed: ") + e.what();
            } catch (...) {
                res->why = "credentials fetch failed";
            }
            res->ec = make_error_code(client_errc::credentials_error);
        }
        self->complete(f, std::move(*res));
    });
    return f;
}

asio::awaitable<void> credentials_cache::run_fetch(std::shared_ptr<credentials_cache> self,
                                                   std::shared_ptr<fetch_result> r) {
    r->ec = co_await self->chain_.async_get(r->creds, r->why);
}

std::shared_ptr<const credentials_snapshot> credentials_cache::make_snapshot_locked(resolved_credentials r,
                                                                                    sys_clock::time_point fetched) {
    auto s = std::make_shared<credentials_snapshot>();
    s->value = std::move(r.value);
    s->expiration = r.expiration;
    s->source = std::move(r.source);
    if (s->expiration) {
        const auto lifetime = std::max(sys_clock::duration::zero(), *s->expiration - fetched);
        auto jitter = sys_clock::duration::zero();
        if (params_.advisory_jitter.count() > 0)
            jitter = std::chrono::duration_cast<sys_clock::duration>(
                params_.advisory_jitter * (std::uniform_real_distribution<double>(0.0, 1.0)(rng_)));
        const auto advisory = std::min<sys_clock::duration>(params_.advisory - jitter, lifetime / 4);
        const auto mandatory = std::min<sys_clock::duration>(params_.mandatory, lifetime / 8);
        s->refresh_at = *s->expiration - std::max(advisory, mandatory);
        s->must_refresh_at = *s->expiration - mandatory;
    }
    return s;
}

void credentials_cache::complete(const std::shared_ptr<flight>& f, fetch_result r) {
    std::list<std::pair<std::uint64_t, asio::any_completion_handler<void()>>> waiters;
    std::string log_line;
    log_level log_at = log_level::info;
    {
        std::lock_guard lk(mutex_);
        const auto t = now();
        auto old = current_.load(std::memory_order_acquire);
        if (!r.ec) {
            log_line = (old ? "credentials: refreshed from " : "credentials: fetched from ") + r.creds.source;
            auto s = make_snapshot_locked(std::move(r.creds), t);
            if (s->expiration && *s->expiration <= t) {
                // Already expired: usable for nothing; report it like a failed fetch.
                r.ec = make_error_code(client_errc::credentials_error);
                r.why = s->source + ": the credentials returned are already expired";
            } else {
                current_.store(s, std::memory_order_release);
                f->result = std::move(s);
                next_retry_ = {};
            }
        }
        if (r.ec) {
            if (old && old->expiration && t < *old->expiration) {
                // Keep the valid set; try again later.
                const auto left = *old->expiration - t;
                next_retry_ = t + std::clamp<sys_clock::duration>(left / 4, params_.min_retry, params_.max_retry);
                f->result = old;
                log_line = "credentials: refresh failed, the current set stays in use until it expires: " + r.why;
                log_at = log_level::warn;
            } else {
                log_line = "credentials: " + r.why;
                log_at = log_level::error;
            }
            f->ec = r.ec;
            f->why = std::move(r.why);
        }
        f->done = true;
        waiters.swap(f->waiters);
        if (flight_ == f) flight_.reset();
    }
    if (params_.log) params_.log(log_at, log_line);
    for (auto& w : waiters) resume(std::move(w.second));
}

}  // namespace iotjobs::detail
