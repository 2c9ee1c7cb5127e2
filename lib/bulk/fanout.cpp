// The client registry and the bulk fan-out (include/iotjobs/client_registry.hpp).
//
// The fan-out reads the one source and routes each item to a lane, one per (profile, region): a
// bounded queue that the key's own bulk engine pulls from as its source (lane_source). Every
// engine runs on the fan-out's strand, so the lanes, the queues and the outcome handler need no
// lock. The source is read only on demand: when some lane's engine waits for an item and no
// lane's queue is full (a slow key holds the reading up once its queue is full, never before).
#include "bulk/engine.hpp"
#include "client_impl.hpp"

#include <iotjobs/client_registry.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <system_error>

namespace iotjobs {

std::string to_string(const client_key& k) {
    return (k.profile.empty() ? std::string("(default)") : k.profile) + "/" +
           (k.region.empty() ? std::string("(default)") : k.region);
}

client_registry::client_registry(boost::asio::any_io_executor ex, config_factory make_config)
    : ex_(std::move(ex)), make_config_(std::move(make_config)) {}

client& client_registry::get(const client_key& key) {
    if (auto it = clients_.find(key); it != clients_.end()) return *it->second;
    auto c = std::make_unique<client>(ex_, make_config_(key));
    return *clients_.emplace(key, std::move(c)).first->second;
}

client* client_registry::find(const client_key& key) noexcept {
    auto it = clients_.find(key);
    return it == clients_.end() ? nullptr : it->second.get();
}

client_stats client_registry::stats() const {
    static constexpr std::uint64_t client_stats::*counters[] = {
        &client_stats::connects, &client_stats::tls_handshakes, &client_stats::tls_resumed, &client_stats::reuses,
        &client_stats::idle,     &client_stats::leased,         &client_stats::waiting,     &client_stats::requests,
        &client_stats::retries,  &client_stats::throttled};
    client_stats t;
    for (const auto& [k, c] : clients_) {
        const client_stats s = c->stats();
        for (auto m : counters) t.*m += s.*m;
    }
    return t;
}

void client_registry::cancel() {
    for (auto& [k, c] : clients_) c->cancel();
}

namespace detail {
namespace {

namespace asio = boost::asio;
using pull_handler = asio::any_completion_handler<void(error_code, bulk_source::pull)>;

// Adds the counts of `s` to `t`; the first stop (in the order added) gives the stop fields.
void add_summary(bulk_summary& t, const bulk_summary& s) {
    t.items += s.items;
    t.deleted += s.deleted;
    t.not_found += s.not_found;
    t.refused += s.refused;
    t.failed += s.failed;
    t.not_attempted += s.not_attempted;
    t.invalid_input += s.invalid_input;
    t.possibly_deleted_earlier += s.possibly_deleted_earlier;
    if (s.stopped_early && !t.stopped_early) {
        t.stopped_early = true;
        t.stop_kind = s.stop_kind;
        t.stop_error = s.stop_error;
        t.stop_reason = s.stop_reason;
        t.stop_detail = s.stop_detail;
        t.stop_outcome = s.stop_outcome;
        t.stop_diagnostics = s.stop_diagnostics;
    }
}

struct fanout;

// One key's queue, and the source its engine pulls from.
struct lane final : bulk_source {
    lane(fanout& f, client_key k) : owner(f), key(std::move(k)) {}
    void async_next(pull_handler handler) override;
    bool drain_on_stop() const noexcept override;
    const diagnostics* last_diagnostics() const noexcept override;

    fanout& owner;
    client_key key;
    std::deque<bulk_item> queue;
    std::optional<pull_handler> waiting;  // the engine's pull, when the queue was empty
    asio::cancellation_signal cancel;
    std::optional<bulk_summary> summary;  // once its run completed
    error_code ec;
    std::unique_ptr<bulk_source> own_source;  // a fan-out over keys: the key's own source
};

struct fanout : std::enable_shared_from_this<fanout> {
    fanout(client_registry& r, bulk_source* s, bulk_fanout_options o, bulk_outcome_handler cb)
        : reg(r), src(s), opt(std::move(o)), on_outcome(std::move(cb)), strand(asio::make_strand(r.get_executor())) {
        if (opt.queue_per_key == 0) opt.queue_per_key = 4 * std::max<std::size_t>(opt.per_key.max_in_flight, 1) + 256;
    }

    client_registry& reg;
    bulk_source* src;  // null: a fan-out over keys, each with its own source
    bulk_fanout_options opt;
    bulk_outcome_handler on_outcome;
    asio::strand<asio::any_io_executor> strand;
    std::map<client_key, std::unique_ptr<lane>> lanes;
    // Keys whose client could not be made: why, and what was delivered for them (their counts).
    struct broken_key {
        std::string why;
        bulk_summary counts;
    };
    std::map<client_key, broken_key> broken;
    std::optional<asio::any_completion_handler<bulk_fanout_signature>> handler;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    bulk_summary own;  // what the fan-out delivered itself
    std::size_t running = 0;
    bool reading = false, ended = false, stopping = false;
    error_code end_ec;  // the source's error
    std::string end_message;

    // Delivers an outcome the fan-out made itself, counted under `key` (a key without a client) or
    // as its own (an invalid row, an item after the run stopped).
    void deliver(bulk_outcome& o, const client_key* key = nullptr) {
        bulk_summary one;
        ++one.items;
        if (o.kind == bulk_outcome_kind::invalid_input) ++one.invalid_input;
        if (o.kind == bulk_outcome_kind::failed) ++one.failed;
        if (o.kind == bulk_outcome_kind::not_attempted) ++one.not_attempted;
        add_summary(key ? broken[*key].counts : own, one);
        if (!on_outcome) return;
        try {
            on_outcome(o);
        } catch (const std::exception& e) {
            if (!own.stopped_early) {
                own.stopped_early = true;
                own.stop_kind = bulk_stop_reason::outcome_handler_threw;
                own.stop_error = make_error_code(client_errc::invalid_parameter);
                own.stop_reason = std::string("the outcome handler threw: ") + e.what();
                own.stop_detail = e.what();
            }
            cancel_all(asio::cancellation_type::partial);
        }
    }

    // Reads the next item if some lane waits for one (or none exists yet) and no queue is full.
    void pump() {
        if (reading || ended || !src) return;
        bool wanted = lanes.empty();
        for (auto& [k, l] : lanes) {
            if (l->queue.size() >= opt.queue_per_key) return;
            if (l->waiting && !l->summary) wanted = true;
        }
        if (!wanted) return;
        reading = true;
        auto self = shared_from_this();
        try {
            src->async_next(pull_handler(asio::bind_executor(strand, [self](error_code ec, bulk_source::pull p) {
                self->reading = false;
                self->on_pulled(ec, std::move(p));
            })));
        } catch (const std::exception& e) {
            reading = false;
            source_ended(make_error_code(client_errc::invalid_parameter),
                         std::string("the input source threw: ") + e.what());
        }
    }

    void on_pulled(error_code ec, bulk_source::pull p) {
        if (ec) return source_ended(ec, p.invalid ? *p.invalid : ec.message());
        if (!p.item) return source_ended({}, {});
        if (p.invalid) {
            bulk_outcome o = invalid_input_outcome(std::move(p));
            deliver(o);
        } else {
            route(std::move(*p.item));
        }
        asio::post(strand, [self = shared_from_this()] { self->pump(); });  // not nested
    }

    client_key key_of(const bulk_item& item) const {
        return {item.profile.empty() ? opt.defaults.profile : item.profile,
                item.region.empty() ? opt.defaults.region : item.region};
    }

    void route(bulk_item item) {
        const client_key key = key_of(item);
        if (auto b = broken.find(key); b != broken.end()) return deliver_failed(std::move(item), b->second.why);
        auto it = lanes.find(key);
        if (it == lanes.end()) {
            if (stopping) {
                bulk_outcome o;
                o.item = std::move(item);
                o.message = "the run stopped before this item: cancelled";
                return deliver(o);
            }
            lane* l = open_lane(key);
            if (!l) return deliver_failed(std::move(item), broken[key].why);
            it = lanes.find(key);
        }
        lane& l = *it->second;
        l.queue.push_back(std::move(item));
        if (l.waiting) hand_over(l);
    }

    void deliver_failed(bulk_item item, const std::string& why) {
        bulk_outcome o;
        o.item = std::move(item);
        o.kind = bulk_outcome_kind::failed;
        o.ec = make_error_code(client_errc::invalid_configuration);
        const client_key key = key_of(o.item);
        o.message = "no client for " + to_string(key) + ": " + why;
        deliver(o, &key);
    }

    // Makes the key's client (and, with `make_source`, its source) and starts its run; null (and
    // broken[key] set) when either cannot be made.
    lane* open_lane(const client_key& key, const bulk_source_factory& make_source = {}) {
        client* c = nullptr;
        std::unique_ptr<bulk_source> own_source;
        try {
            c = &reg.get(key);
            if (make_source) own_source = make_source(*c, key);
        } catch (const std::exception& e) {
            broken[key].why = e.what();
            return nullptr;
        }
        auto& l = lanes.emplace(key, std::make_unique<lane>(*this, key)).first->second;
        lane* raw = l.get();
        raw->own_source = std::move(own_source);
        ++running;
        async_bulk_delete_on(strand, access::impl(*c), raw->own_source ? *raw->own_source : *raw, opt.per_key,
                             on_outcome,
                             asio::bind_cancellation_slot(
                                 raw->cancel.slot(), [self = shared_from_this(), raw](error_code ec, bulk_summary s) {
                                     raw->ec = ec;
                                     raw->summary = std::move(s);
                                     --self->running;
                                     self->maybe_finish();
                                     self->pump();
                                 }));
        return raw;
    }

    // Completes the lane's waiting pull with its next item, or the end of the source.
    void hand_over(lane& l) {
        if (!l.waiting) return;
        bulk_source::pull p;
        error_code ec;
        if (!l.queue.empty()) {
            p.item = std::move(l.queue.front());
            l.queue.pop_front();
        } else if (ended) {
            ec = end_ec;
            if (ec) p.invalid = end_message;
        } else {
            return;
        }
        pull_handler h(std::move(*l.waiting));
        l.waiting.reset();
        asio::post(strand, [h = std::move(h), ec, p = std::move(p)]() mutable { std::move(h)(ec, std::move(p)); });
    }

    void source_ended(error_code ec, std::string message) {
        ended = true;
        end_ec = ec;
        end_message = std::move(message);
        if (ec && lanes.empty()) {  // no run to report it: the fan-out's own summary does
            own.stopped_early = true;
            own.stop_kind = bulk_stop_reason::source_failed;
            own.stop_error = ec;
            own.stop_reason = "the input failed: " + end_message;
            own.stop_detail = end_message;
            if (const diagnostics* d = src->last_diagnostics()) own.stop_diagnostics = *d;
        }
        for (auto& [k, l] : lanes) hand_over(*l);
        maybe_finish();
    }

    void cancel_all(asio::cancellation_type t) {
        stopping = true;
        for (auto& [k, l] : lanes)
            if (!l->summary) l->cancel.emit(t);
    }

    void maybe_finish() {
        if (!ended || running > 0 || !handler) return;
        bulk_fanout_summary out;
        error_code ec = end_ec;
        std::map<client_key, bulk_summary> keys;  // (key order)
        for (auto& [k, b] : broken) keys[k] = std::move(b.counts);
        for (auto& [k, l] : lanes) {
            if (!ec && l->ec && l->ec != asio::error::operation_aborted) ec = l->ec;
            keys[k] = std::move(*l->summary);
        }
        for (auto& [k, s] : keys) {
            add_summary(out.total, s);
            out.keys.emplace_back(k, std::move(s));
        }
        add_summary(out.total, own);
        if (!ec && out.total.stop_error) ec = out.total.stop_error;
        out.total.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto h = std::move(*handler);
        handler.reset();
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) slot.clear();
        auto hex = asio::get_associated_executor(h, strand);
        asio::dispatch(hex,
                       [h = std::move(h), ec, out = std::move(out)]() mutable { std::move(h)(ec, std::move(out)); });
    }

    // A fan-out over keys: every key's run at once; a key that cannot start stops with the reason.
    void start_keys(const std::vector<client_key>& keys, const bulk_source_factory& make_source) {
        ended = true;
        for (const client_key& k : keys) {
            if (lanes.count(k) || broken.count(k) || open_lane(k, make_source)) continue;
            bulk_summary s;
            s.stopped_early = true;
            s.stop_kind = bulk_stop_reason::source_failed;
            s.stop_error = make_error_code(client_errc::invalid_configuration);
            s.stop_detail = "no client for " + to_string(k) + ": " + broken[k].why;
            s.stop_reason = "the input failed: " + s.stop_detail;
            add_summary(broken[k].counts, s);
            if (!end_ec) {
                end_ec = s.stop_error;
                end_message = s.stop_detail;
            }
        }
        maybe_finish();
    }

    // Keeps the handler, connects its cancellation slot, then runs `begin` on the strand.
    void start(asio::any_completion_handler<bulk_fanout_signature> h, std::function<void(fanout&)> begin) {
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) {
            slot.assign([self = shared_from_this()](asio::cancellation_type t) {
                asio::post(self->strand, [self, t] { self->cancel_all(t); });
            });
        }
        handler.emplace(std::move(h));
        asio::dispatch(strand, [self = shared_from_this(), begin = std::move(begin)] { begin(*self); });
    }
};

void lane::async_next(pull_handler handler) {
    asio::dispatch(owner.strand, [this, h = std::move(handler)]() mutable {
        waiting.emplace(std::move(h));
        owner.hand_over(*this);
        owner.pump();
    });
}

bool lane::drain_on_stop() const noexcept { return owner.src->drain_on_stop(); }
const diagnostics* lane::last_diagnostics() const noexcept { return owner.src->last_diagnostics(); }

}  // namespace

void async_bulk_fanout_erased(client_registry& reg, bulk_source& source, bulk_fanout_options options,
                              bulk_outcome_handler on_outcome,
                              asio::any_completion_handler<bulk_fanout_signature> handler) {
    auto f = std::make_shared<fanout>(reg, &source, std::move(options), std::move(on_outcome));
    f->start(std::move(handler), [](fanout& self) { self.pump(); });
}

void async_bulk_fanout_keys_erased(client_registry& reg, std::vector<client_key> keys, bulk_source_factory make_source,
                                   bulk_fanout_options options, bulk_outcome_handler on_outcome,
                                   asio::any_completion_handler<bulk_fanout_signature> handler) {
    auto f = std::make_shared<fanout>(reg, nullptr, std::move(options), std::move(on_outcome));
    f->start(std::move(handler), [keys = std::move(keys), make_source = std::move(make_source)](fanout& self) {
        self.start_keys(keys, make_source);
    });
}

}  // namespace detail
}  // namespace iotjobs
