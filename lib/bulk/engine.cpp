// The bulk-delete engine: one producer pulls items from the source into a bounded channel,
// max_in_flight workers delete them; everything runs on one strand, so outcomes are delivered
// one at a time and the state needs no locks. Memory: the channel holds at most max_in_flight
// items and nothing is kept per finished item.
#include "bulk/engine.hpp"
#include "client_impl.hpp"
#include "diagnostics_access.hpp"
#include "retry/rate_limiter.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/describe_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <optional>

namespace iotjobs {
namespace detail {
namespace {

namespace asio = boost::asio;
using item_channel = asio::experimental::channel<void(error_code, bulk_item)>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Everything the run needs of the client is its implementation, shared: the client handle may be
// moved or destroyed while the run goes on.
struct engine : std::enable_shared_from_this<engine> {
    engine(std::shared_ptr<client_impl> c, asio::strand<asio::any_io_executor> on, bulk_source& s, bulk_options o,
           bulk_outcome_handler cb)
        : impl(std::move(c)),
          strand(std::move(on)),
          src(s),
          opt(std::move(o)),
          on_outcome(std::move(cb)),
          channel(strand, std::max<std::size_t>(opt.max_in_flight, 1)),
          all_done(strand) {
        if (opt.max_in_flight == 0) opt.max_in_flight = 1;
        if (opt.rate_limit > 0) fixed = std::make_unique<fixed_rate_limiter>(opt.rate_limit, 1);
        all_done.expires_at(asio::steady_timer::time_point::max());
    }

    std::shared_ptr<client_impl> impl;
    asio::strand<asio::any_io_executor> strand;
    bulk_source& src;
    bulk_options opt;
    bulk_outcome_handler on_outcome;
    item_channel channel;
    asio::steady_timer all_done;
    std::unique_ptr<fixed_rate_limiter> fixed;
    std::vector<std::shared_ptr<asio::cancellation_signal>> worker_signals;
    std::vector<asio::steady_timer*> pace_timers;
    std::size_t active_workers = 0;
    bool stop = false;
    bulk_summary summary;
    error_code source_error;

    void deliver(bulk_outcome& o) {
        ++summary.items;
        switch (o.kind) {
        case bulk_outcome_kind::deleted: ++summary.deleted; break;
        case bulk_outcome_kind::not_found:
            ++summary.not_found;
            if (o.earlier_attempt_may_have_succeeded) ++summary.possibly_deleted_earlier;
            break;
        case bulk_outcome_kind::refused: ++summary.refused; break;
        case bulk_outcome_kind::failed: ++summary.failed; break;
        case bulk_outcome_kind::not_attempted: ++summary.not_attempted; break;
        case bulk_outcome_kind::invalid_input: ++summary.invalid_input; break;
        }
        if (!on_outcome) return;
        try {
            on_outcome(o);
        } catch (const std::exception& e) {
            request_stop(make_error_code(client_errc::invalid_parameter), bulk_stop_reason::outcome_handler_threw,
                         std::string("the outcome handler threw: ") + e.what(), e.what());
        } catch (...) {
            request_stop(make_error_code(client_errc::invalid_parameter), bulk_stop_reason::outcome_handler_threw,
                         "the outcome handler threw", "an exception not derived from std::exception");
        }
    }

    // The first reason to stop wins; false if the run was already stopping.
    bool request_stop(error_code why, bulk_stop_reason kind, std::string reason, std::string detail = {}) {
        if (stop) return false;
        stop = true;
        summary.stopped_early = true;
        summary.stop_kind = kind;
        summary.stop_error = why;
        summary.stop_reason = std::move(reason);
        summary.stop_detail = std::move(detail);
        return true;
    }

    void source_failed(error_code ec, std::string why) {
        source_error = ec;
        if (request_stop(ec, bulk_stop_reason::source_failed, "the input failed: " + why, why)) {
            if (const diagnostics* d = src.last_diagnostics()) summary.stop_diagnostics = *d;
        } else {
            // Stopped for another reason first (cancelled, fatal): the source's failure still ends the run.
            if (summary.stop_detail.empty()) summary.stop_detail = why;
        }
    }

    void apply_defaults(delete_job_execution_request& r) const {
        if (!r.force && opt.default_force) r.force = opt.default_force;
        if (!r.namespace_id && opt.default_namespace_id) r.namespace_id = opt.default_namespace_id;
    }

    void deliver_not_attempted(bulk_item item, std::string message) {
        bulk_outcome o;
        o.item = std::move(item);
        o.kind = bulk_outcome_kind::not_attempted;
        o.message = std::move(message);
        deliver(o);
    }

    // Producer: pulls every item (or, once stopped, drains what the source allows), then queues
    // one end marker per worker. A source that throws ends the pulling like a source error: the
    // items already pulled are still delivered, and the run completes.
    asio::awaitable<void> produce() {
        std::string failure;
        try {
            co_await pull_all();
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "an exception not derived from std::exception";
        }
        if (!failure.empty()) source_failed(make_error_code(client_errc::invalid_parameter), failure);
        // A throw after the source had completed its last pull (the loop may have ended on that
        // pull's answer before the throw was seen).
        if (!thrown.empty() && !source_error) source_failed(make_error_code(client_errc::invalid_parameter), thrown);
        // One end marker per worker, queued behind the items (close() would drop buffered items).
        for (std::size_t i = 0; i < opt.max_in_flight; ++i) {
            auto send = channel.async_send(asio::error::eof, bulk_item{}, use_tuple);  // see pull_all()
            co_await std::move(send);
        }
    }

    // What the source threw from async_next (empty: nothing).
    std::string thrown;

    // Calls src.async_next with a handler it cannot lose: an exception from async_next (before
    // or after it completed) completes the pull with an error instead of escaping the driver.
    template <class Handler>
    void next_guarded(Handler handler) {
        using pull_handler = asio::any_completion_handler<void(error_code, bulk_source::pull)>;
        auto ex = asio::get_associated_executor(handler, strand);
        auto slot = std::make_shared<std::optional<pull_handler>>(std::in_place, std::move(handler));
        try {
            src.async_next(pull_handler(asio::bind_executor(ex, [slot](error_code ec, bulk_source::pull p) {
                if (!*slot) return;
                pull_handler h(std::move(**slot));
                slot->reset();
                std::move(h)(ec, std::move(p));
            })));
        } catch (const std::exception& e) {
            thrown = std::string("the input source threw: ") + e.what();
        } catch (...) {
            thrown = "the input source threw an exception";
        }
        if (!thrown.empty() && *slot) {
            pull_handler h(std::move(**slot));
            slot->reset();
            bulk_source::pull p;
            p.invalid = thrown;
            asio::post(strand, [h = std::move(h), p = std::move(p)]() mutable {
                std::move(h)(make_error_code(client_errc::invalid_parameter), std::move(p));
            });
        }
    }

    asio::awaitable<void> pull_all() {
        for (;;) {
            if (!thrown.empty()) {  // it threw after completing the last pull: that item counted, the pulling ends
                source_failed(make_error_code(client_errc::invalid_parameter), thrown);
                break;
            }
            if (stop && !src.drain_on_stop()) break;
            auto [ec, p] = co_await asio::async_initiate<decltype(use_tuple), void(error_code, bulk_source::pull)>(
                [this](auto handler) { next_guarded(std::move(handler)); }, use_tuple);
            if (ec) {
                source_failed(ec, p.invalid ? *p.invalid : ec.message());
                break;
            }
            if (!p.item) break;
            if (p.invalid) {
                bulk_outcome o = invalid_input_outcome(std::move(p));
                deliver(o);
                continue;
            }
            apply_defaults(p.item->request);
            if (stop) {
                deliver_not_attempted(std::move(*p.item), "the run stopped before this item: " + summary.stop_reason);
                continue;
            }
            // Build the awaitable in its own statement: GCC 12 destroys temporaries created inside a
            // co_await expression twice (seen as an invalid free of a request here).
            auto send = channel.async_send(error_code{}, std::move(*p.item), use_tuple);
            auto [sec] = co_await std::move(send);
            if (sec) break;
        }
    }

    bulk_outcome classify(bulk_item item, error_code ec, const diagnostics& diag) {
        bulk_outcome o;
        o.item = std::move(item);
        o.ec = ec;
        o.aws_error_name = std::string(diag.aws_error_name());
        o.message = std::string(diag.message());
        o.attempts = diag.attempts();
        o.request_id = std::string(diag.request_id());
        o.earlier_attempt_may_have_succeeded = diag.earlier_attempt_may_have_succeeded();
        if (!ec) {
            o.kind = bulk_outcome_kind::deleted;
            o.message.clear();
        } else if (ec == service_errc::resource_not_found) {
            o.kind = bulk_outcome_kind::not_found;
        } else if (is_validation_error(ec)) {
            o.kind = bulk_outcome_kind::invalid_input;
        } else if (ec == service_errc::invalid_state_transition || ec == service_errc::invalid_request ||
                   ec == service_errc::version_conflict) {
            o.kind = bulk_outcome_kind::refused;
        } else {
            o.kind = bulk_outcome_kind::failed;
            if (o.message.empty()) o.message = ec.message();
        }
        return o;
    }

    // --dry-run: validates the item and predicts the delete's outcome from its status (the
    // listing's, else DescribeJobExecution's); delivered as not_attempted with `predicted` set.
    asio::awaitable<void> dry_run_item(bulk_item item, std::shared_ptr<asio::cancellation_signal> call_cancel) {
        std::string what;
        if (error_code vec = validate(item.request, &what)) {
            diagnostics d;
            access::message(d) = what;
            auto o = classify(std::move(item), vec, d);
            deliver(o);
            co_return;
        }
        bulk_outcome o;
        o.kind = bulk_outcome_kind::not_attempted;
        if (!item.status) {
            diagnostics diag;
            describe_job_execution_request req{item.request.thing_name, item.request.job_id,
                                               item.request.execution_number};
            auto token = asio::bind_cancellation_slot(call_cancel->slot(), use_tuple);
            auto call = initiate_operation(async_describe_erased, impl, std::move(req), &diag, token);
            auto [dec, ex] = co_await std::move(call);  // built in its own statement: see produce()
            o.request_id = std::string(diag.request_id());
            if (!dec) {
                item.status = ex.status;
            } else if (dec == service_errc::resource_not_found) {
                o.predicted = bulk_outcome_kind::not_found;
                o.message = "dry run: not found (DescribeJobExecution)";
            } else {
                o.ec = dec;
                o.aws_error_name = std::string(diag.aws_error_name());
                o.message = "dry run: DescribeJobExecution failed: " +
                            std::string(diag.message().empty() ? dec.message() : diag.message());
                if (is_fatal_for_client(dec) && !impl->transient_credentials_failure(dec) &&
                    request_stop(dec, bulk_stop_reason::fatal_error,
                                 std::string(diag.aws_error_name().empty() ? dec.message() : diag.aws_error_name()) +
                                     ": " + std::string(diag.message()) +
                                     " (every remaining item would fail the same way)"))
                    summary.stop_diagnostics = diag;
            }
        }
        if (item.status) {
            o.predicted = predict_delete_outcome(*item.status, item.request.force.value_or(false));
            o.message = *o.predicted == bulk_outcome_kind::deleted
                            ? std::string("dry run: would delete")
                            : "dry run: would be refused (" + std::string(to_string(*item.status)) + " without force)";
        }
        o.item = std::move(item);
        deliver(o);
    }

    // --rate: waits for this worker's next slot. The reason the item is not attempted when the
    // wait was cancelled or the run stopped meanwhile; nothing when it may go.
    asio::awaitable<std::optional<std::string>> pace(asio::steady_timer& timer) {
        if (!fixed) co_return std::nullopt;
        auto wait = fixed->acquire(std::chrono::steady_clock::now());
        if (wait.count() > 0) {
            timer.expires_after(wait);
            auto [wec] = co_await timer.async_wait(use_tuple);
            if (wec) co_return "the run was cancelled before this item";
        }
        if (stop) co_return "the run stopped before this item: " + summary.stop_reason;
        co_return std::nullopt;
    }

    asio::awaitable<error_code> delete_once(const delete_job_execution_request& request, diagnostics& diag,
                                            const std::shared_ptr<asio::cancellation_signal>& call_cancel) {
        auto token = asio::bind_cancellation_slot(call_cancel->slot(), use_tuple);
        auto call = initiate_operation(async_delete_job_execution_erased, impl, request, &diag,
                                       token);  // see pull_all()
        auto [dec] = co_await std::move(call);
        co_return dec;
    }

    // `call_cancel`: terminal cancellation of the bulk run aborts this worker's call in flight
    // (the worker itself keeps draining the channel, reporting the rest as not_attempted).
    asio::awaitable<void> work(std::shared_ptr<asio::cancellation_signal> call_cancel) {
        asio::steady_timer pace_timer(strand);
        pace_timers.push_back(&pace_timer);
        struct unregister {
            engine* e;
            asio::steady_timer* t;
            ~unregister() { std::erase(e->pace_timers, t); }
        } unregister_pace{this, &pace_timer};
        for (;;) {
            auto [ec, item] = co_await channel.async_receive(use_tuple);
            if (ec) break;  // the producer's end marker
            if (stop) {
                deliver_not_attempted(std::move(item), "the run stopped before this item: " + summary.stop_reason);
                continue;
            }
            if (opt.dry_run) {
                co_await dry_run_item(std::move(item), call_cancel);
                continue;
            }
            diagnostics diag;
            error_code dec;
            std::optional<std::string> skipped;
            // Throttling alone never fails an item: a call that gave up throttled is made again
            // (the adaptive limiter has slowed the run down meanwhile) until it gets another
            // answer or the run stops. Its outcome counts the attempts of every call.
            unsigned attempts = 0;
            bool acted = false;  // an earlier call's attempt may have deleted it
            do {
                if (auto why = co_await pace(pace_timer)) {
                    if (attempts == 0) skipped = std::move(why);  // else: the last call's outcome stands
                    break;
                }
                if (attempts > 0) acted = acted || access::an_attempt_may_have_acted(diag);
                dec = co_await delete_once(item.request, diag, call_cancel);
                attempts += diag.attempts();
            } while (is_throttling(dec) && !stop);
            if (skipped) {
                deliver_not_attempted(std::move(item), std::move(*skipped));
                continue;
            }
            access::attempts(diag) = attempts;
            if (acted && dec == service_errc::resource_not_found)
                access::earlier_attempt_may_have_succeeded(diag) = true;
            auto o = classify(std::move(item), dec, diag);
            // A credentials refresh that failed fails the calls that waited for it; the run goes on.
            if (dec && is_fatal_for_client(dec) && !impl->transient_credentials_failure(dec)) {
                if (request_stop(dec, bulk_stop_reason::fatal_error,
                                 std::string(diag.aws_error_name().empty() ? dec.message() : diag.aws_error_name()) +
                                     ": " + std::string(diag.message()) +
                                     " (every remaining item would fail the same way)")) {
                    summary.stop_outcome = o;
                    summary.stop_diagnostics = diag;
                }
            }
            deliver(o);
        }
    }

    // `diag`, when set, receives summary.stop_diagnostics before the handler runs.
    void start(asio::any_completion_handler<bulk_signature> handler, diagnostics* diag) {
        auto self = shared_from_this();
        auto started = std::chrono::steady_clock::now();
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) {
            slot.assign([self](asio::cancellation_type t) {
                asio::post(self->strand, [self, t] {
                    self->request_stop(asio::error::operation_aborted, bulk_stop_reason::cancelled, "cancelled");
                    // Workers waiting for their rate slot stop waiting (their item: not_attempted).
                    for (auto* p : self->pace_timers) p->cancel();
                    if ((t & asio::cancellation_type::terminal) != asio::cancellation_type::none)
                        for (auto& s : self->worker_signals) s->emit(asio::cancellation_type::terminal);
                });
            });
        }
        if (opt.rate_limit <= 0) impl->enable_adaptive_rate_limiter();
        // Not detached: whatever happens to the driver, the handler is called exactly once.
        asio::co_spawn(
            strand,
            [self]() -> asio::awaitable<void> {
                for (std::size_t i = 0; i < self->opt.max_in_flight; ++i) {
                    auto sig = std::make_shared<asio::cancellation_signal>();
                    self->worker_signals.push_back(sig);
                    ++self->active_workers;
                    asio::co_spawn(self->strand, self->work(sig), [self](std::exception_ptr) {
                        if (--self->active_workers == 0) self->all_done.cancel();
                    });
                }
                co_await self->produce();
                if (self->active_workers > 0) co_await self->all_done.async_wait(use_tuple);
            },
            [self, started, diag, h = std::move(handler)](std::exception_ptr ep) mutable {
                if (ep) {
                    const error_code eec = error_from_exception(ep);
                    self->request_stop(eec, bulk_stop_reason::source_failed, "the run failed: " + eec.message(),
                                       eec.message());
                    if (!self->source_error) self->source_error = eec;
                }
                self->summary.seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                auto hslot = asio::get_associated_cancellation_slot(h);
                if (hslot.is_connected()) hslot.clear();
                error_code ec = self->source_error ? self->source_error : self->summary.stop_error;
                if (diag) *diag = self->summary.stop_diagnostics;
                auto summary = std::move(self->summary);
                auto hex = asio::get_associated_executor(h, self->strand);
                asio::dispatch(hex, [h = std::move(h), ec, summary = std::move(summary)]() mutable {
                    std::move(h)(ec, std::move(summary));
                });
            });
    }
};

// ---- list source --------------------------------------------------------------------------

class list_source final : public bulk_source {
public:
    list_source(std::shared_ptr<client_impl> c, list_source_params p) : impl_(std::move(c)), p_(std::move(p)) {
        if (p_.statuses.empty())
            p_.statuses = {job_execution_status::queued,    job_execution_status::in_progress,
                           job_execution_status::succeeded, job_execution_status::failed,
                           job_execution_status::timed_out, job_execution_status::rejected,
                           job_execution_status::removed,   job_execution_status::canceled};
    }

    bool drain_on_stop() const noexcept override { return false; }
    const diagnostics* last_diagnostics() const noexcept override { return &diag_; }

    void async_next(asio::any_completion_handler<void(error_code, pull)> handler) override {
        if (!buffer_.empty()) {
            pull p;
            p.item = std::move(buffer_.front());
            buffer_.pop_front();
            complete(std::move(handler), {}, std::move(p));
            return;
        }
        if (status_index_ >= p_.statuses.size()) {
            complete(std::move(handler), {}, pull{});
            return;
        }
        auto on_page = [this, h = std::move(handler)](error_code ec, list_job_executions_result r) mutable {
            if (ec) {
                pull p;
                p.invalid =
                    "listing failed: " + std::string(diag_.aws_error_name()) + " " + std::string(diag_.message());
                complete(std::move(h), ec, std::move(p));
                return;
            }
            for (auto& s : r.executions) {
                if (!s.execution_number) continue;
                bulk_item item;
                item.line = ++index_;
                if (p_.job_id) {
                    item.request.job_id = *p_.job_id;
                    auto slash = s.thing_arn.rfind('/');
                    item.request.thing_name = slash == std::string::npos ? s.thing_arn : s.thing_arn.substr(slash + 1);
                } else {
                    item.request.thing_name = *p_.thing_name;
                    item.request.job_id = s.job_id;
                }
                item.request.execution_number = *s.execution_number;
                item.request.namespace_id = p_.namespace_id;
                item.status = s.status;
                buffer_.push_back(std::move(item));
            }
            token_ = r.next_token;
            if (!token_) ++status_index_;
            async_next(std::move(h));  // serve from the buffer, or fetch the next page
        };
        handler_executor hex = executor_of(on_page);  // none of its own: the client's
        if (p_.job_id) {
            list_job_executions_for_job_request req{*p_.job_id, p_.statuses[status_index_], p_.page_size, token_};
            async_list_for_job_erased(impl_, std::move(req), &diag_,
                                      asio::any_completion_handler<list_signature>(std::move(on_page)), std::move(hex));
        } else {
            list_job_executions_for_thing_request req{
                *p_.thing_name, p_.statuses[status_index_], p_.namespace_id, p_.page_size, token_, std::nullopt};
            async_list_for_thing_erased(impl_, std::move(req), &diag_,
                                        asio::any_completion_handler<list_signature>(std::move(on_page)),
                                        std::move(hex));
        }
    }

private:
    static void complete(asio::any_completion_handler<void(error_code, pull)> h, error_code ec, pull p) {
        auto hex = asio::get_associated_executor(h);
        asio::dispatch(hex, [h = std::move(h), ec, p = std::move(p)]() mutable { std::move(h)(ec, std::move(p)); });
    }

    std::shared_ptr<client_impl> impl_;
    list_source_params p_;
    std::size_t status_index_ = 0;
    std::optional<std::string> token_;
    std::deque<bulk_item> buffer_;
    std::uint64_t index_ = 0;
    diagnostics diag_;
};

}  // namespace

void async_bulk_delete_erased(std::shared_ptr<client_impl> c, bulk_call call, diagnostics* diag,
                              asio::any_completion_handler<bulk_signature> handler, handler_executor) {
    auto on = asio::make_strand(c->executor());
    auto e = std::make_shared<engine>(std::move(c), std::move(on), *call.source, std::move(call.options),
                                      std::move(call.on_outcome));
    e->start(std::move(handler), diag);
}

bulk_outcome invalid_input_outcome(bulk_source::pull p) {
    bulk_outcome o;
    o.item = std::move(*p.item);
    o.kind = bulk_outcome_kind::invalid_input;
    o.ec = make_error_code(client_errc::invalid_parameter);
    o.message = std::move(*p.invalid);
    o.raw_input = std::move(p.raw);
    return o;
}

void async_bulk_delete_on(asio::strand<asio::any_io_executor> strand, std::shared_ptr<client_impl> c,
                          bulk_source& source, bulk_options options, bulk_outcome_handler on_outcome,
                          asio::any_completion_handler<bulk_signature> handler) {
    auto e =
        std::make_shared<engine>(std::move(c), std::move(strand), source, std::move(options), std::move(on_outcome));
    e->start(std::move(handler), nullptr);
}

}  // namespace detail

std::unique_ptr<bulk_source> make_list_source(client& c, list_source_params params) {
    return std::make_unique<detail::list_source>(detail::access::impl(c), std::move(params));
}

std::string_view to_string(bulk_stop_reason r) noexcept {
    switch (r) {
    case bulk_stop_reason::none: return "none";
    case bulk_stop_reason::cancelled: return "cancelled";
    case bulk_stop_reason::source_failed: return "source_failed";
    case bulk_stop_reason::fatal_error: return "fatal_error";
    case bulk_stop_reason::outcome_handler_threw: return "outcome_handler_threw";
    }
    return "unknown";
}

}  // namespace iotjobs
