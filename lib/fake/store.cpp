#include "fake/store.hpp"

#include "fake/util.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace iotjobs::fake::detail {

namespace {
std::uint64_t hash_name(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

bool key_less(const record& a, const record& b) noexcept {
    if (a.thing != b.thing) return a.thing < b.thing;
    if (a.job != b.job) return a.job < b.job;
    return a.number < b.number;
}
bool key_equal(const record& a, const record& b) noexcept {
    return a.thing == b.thing && a.job == b.job && a.number == b.number;
}
}  // namespace

std::optional<std::uint32_t> interner::find(std::string_view s) const noexcept {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash_name(s) & mask;; i = (i + 1) & mask) {
        auto slot = slots_[i];
        if (slot == 0) return std::nullopt;
        if (name(slot - 1) == s) return slot - 1;
    }
}

void interner::grow() {
    std::vector<std::uint32_t> bigger(slots_.size() * 2, 0);
    std::size_t mask = bigger.size() - 1;
    for (std::uint32_t id = 0; id < size(); ++id) {
        std::size_t i = hash_name(name(id)) & mask;
        while (bigger[i] != 0) i = (i + 1) & mask;
        bigger[i] = id + 1;
    }
    slots_.swap(bigger);
}

std::uint32_t interner::intern(std::string_view s) {
    if (auto id = find(s)) return *id;
    if ((size() + 1) * 2 > slots_.size()) grow();
    if (arena_.size() + s.size() > std::numeric_limits<std::uint32_t>::max())
        throw std::length_error("fake store: name arena full");
    auto id = static_cast<std::uint32_t>(size());
    arena_.append(s);
    offsets_.push_back(static_cast<std::uint32_t>(arena_.size()));
    std::size_t mask = slots_.size() - 1;
    std::size_t i = hash_name(s) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = id + 1;
    return id;
}

std::size_t store::lower_bound(std::uint32_t thing, std::uint32_t job, std::int64_t number) const noexcept {
    record key{};
    key.thing = thing;
    key.job = job;
    key.number = number;
    return static_cast<std::size_t>(std::lower_bound(records_.begin(), records_.end(), key, key_less) -
                                    records_.begin());
}

std::optional<std::uint16_t> store::namespace_ref(std::string_view ns) const noexcept {
    auto id = namespaces_.find(ns);
    if (!id) return std::nullopt;
    return static_cast<std::uint16_t>(*id + 1);
}

namespace {
std::uint32_t to_u32_time(std::chrono::sys_seconds t, std::uint32_t fallback) {
    auto c = t.time_since_epoch().count();
    if (c <= 0) return fallback;
    return static_cast<std::uint32_t>(std::min<std::int64_t>(c, std::numeric_limits<std::uint32_t>::max()));
}
}  // namespace

std::size_t store::add(const std::vector<execution>& items, std::uint32_t now) {
    std::vector<record> pending;
    for (auto& e : items) {
        record r{};
        r.thing = things_.intern(e.thing_name);
        r.job = jobs_.intern(e.job_id);
        r.number = e.execution_number;
        r.status = static_cast<std::uint8_t>(e.status);
        if (!e.namespace_id.empty()) {
            auto id = namespaces_.intern(e.namespace_id);
            if (id >= 65535) throw std::length_error("fake store: too many namespaces");
            r.ns = static_cast<std::uint16_t>(id + 1);
        }
        r.queued_at = to_u32_time(e.queued_at, now);
        r.started_at = to_u32_time(e.started_at, e.status == execution_status::queued ? 0 : now);
        r.updated_at = to_u32_time(e.last_updated_at, now);
        r.version = static_cast<std::uint32_t>(std::clamp<std::int64_t>(e.version_number, 0, UINT32_MAX));
        r.flags = e.force_canceled ? 2 : 0;
        pending.push_back(r);
    }
    return add_records(pending);
}

std::size_t store::add_records(std::vector<record>& pending) {
    // Existing keys are updated in place; new ones merged.
    std::vector<record> fresh;
    if (records_.empty()) {
        fresh.swap(pending);
    } else {
        for (auto& r : pending) {
            auto pos = lower_bound(r.thing, r.job, r.number);
            if (pos < records_.size() && key_equal(records_[pos], r)) {
                if (records_[pos].deleted()) {
                    --tombstones_;
                    ++live_;
                }
                records_[pos] = r;
            } else {
                fresh.push_back(r);
            }
        }
    }
    if (fresh.empty()) return 0;
    if (!std::is_sorted(fresh.begin(), fresh.end(), key_less)) std::stable_sort(fresh.begin(), fresh.end(), key_less);
    // Keep the last of equal keys.
    std::size_t w = 0;
    for (std::size_t i = 0; i < fresh.size(); ++i)
        if (i + 1 == fresh.size() || !key_equal(fresh[i], fresh[i + 1])) fresh[w++] = fresh[i];
    fresh.resize(w);
    if (records_.empty()) {
        records_.swap(fresh);
    } else {
        auto mid = records_.size();
        records_.insert(records_.end(), fresh.begin(), fresh.end());
        std::inplace_merge(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(mid), records_.end(),
                           key_less);
    }
    live_ += w;
    rebuild_index();
    return w;
}

void store::generate(const generate_options& g, std::uint32_t now) {
    double total = 0;
    for (auto& [s, w] : g.status_mix) total += w;
    if (total <= 0) throw std::invalid_argument("generate: empty status mix");
    splitmix64 rng{g.random_seed};
    std::uint64_t jobs = g.jobs ? g.jobs : 1;
    std::uint16_t ns = 0;
    if (!g.namespace_id.empty()) ns = static_cast<std::uint16_t>(namespaces_.intern(g.namespace_id) + 1);
    std::vector<record> batch;
    batch.reserve(static_cast<std::size_t>(g.count));
    std::string name;
    for (std::uint64_t i = 1; i <= g.count; ++i) {
        record r{};
        name = "thing-";
        name += std::to_string(i);
        r.thing = things_.intern(name);
        name = "job-";
        name += std::to_string(i % jobs);
        r.job = jobs_.intern(name);
        r.number = static_cast<std::int64_t>(i);
        double x = rng.uniform01() * total;
        auto status = g.status_mix.back().first;
        for (auto& [s, w] : g.status_mix) {
            if (x < w) {
                status = s;
                break;
            }
            x -= w;
        }
        r.status = static_cast<std::uint8_t>(status);
        r.ns = ns;
        r.queued_at = now - 3600;
        r.started_at = status == execution_status::queued ? 0 : now - 1800;
        r.updated_at = now - 60;
        r.version = 1;
        batch.push_back(r);
    }
    add_records(batch);
}

void store::rebuild_index() {
    // records_ is sorted by (thing, job, number); a stable counting sort of positions by job id
    // yields (job, thing, number) order in O(n + jobs).
    std::vector<std::uint32_t> start(jobs_.size() + 1, 0);
    for (auto& r : records_) ++start[r.job + 1];
    for (std::size_t j = 1; j < start.size(); ++j) start[j] += start[j - 1];
    by_job_.resize(records_.size());
    for (std::size_t i = 0; i < records_.size(); ++i) by_job_[start[records_[i].job]++] = static_cast<std::uint32_t>(i);
}

void store::maybe_compact() {
    if (tombstones_ < 1024 || tombstones_ <= live_) return;
    // Survivors keep their relative order in both orders: filter and remap, O(n).
    constexpr std::uint32_t gone = std::numeric_limits<std::uint32_t>::max();
    std::vector<std::uint32_t> remap(records_.size());
    std::size_t w = 0;
    for (std::size_t i = 0; i < records_.size(); ++i)
        remap[i] = records_[i].deleted() ? gone : static_cast<std::uint32_t>(w++);
    std::size_t wj = 0;
    for (auto idx : by_job_)
        if (remap[idx] != gone) by_job_[wj++] = remap[idx];
    w = 0;
    for (std::size_t i = 0; i < records_.size(); ++i)
        if (!records_[i].deleted()) records_[w++] = records_[i];
    records_.resize(w);
    by_job_.resize(wj);
    tombstones_ = 0;
}

record* store::find(std::string_view thing, std::string_view job, std::int64_t number) {
    auto t = things_.find(thing);
    auto j = jobs_.find(job);
    if (!t || !j) return nullptr;
    auto pos = lower_bound(*t, *j, number);
    if (pos < records_.size() && records_[pos].thing == *t && records_[pos].job == *j &&
        records_[pos].number == number && !records_[pos].deleted())
        return &records_[pos];
    return nullptr;
}

record* store::latest(std::string_view thing, std::string_view job) {
    auto t = things_.find(thing);
    auto j = jobs_.find(job);
    if (!t || !j) return nullptr;
    record* best = nullptr;
    for (auto pos = lower_bound(*t, *j, std::numeric_limits<std::int64_t>::min());
         pos < records_.size() && records_[pos].thing == *t && records_[pos].job == *j; ++pos)
        if (!records_[pos].deleted()) best = &records_[pos];
    return best;
}

void store::erase(record* r) {
    if (!r || r->deleted()) return;
    r->flags |= 1;
    --live_;
    ++tombstones_;
    ++deleted_total_;
    maybe_compact();
}

namespace {
bool matches(const record& r, const store::list_filter& f) noexcept {
    if (r.deleted()) return false;
    if (f.status && r.st() != *f.status) return false;
    if (f.ns && r.ns != *f.ns) return false;
    return true;
}

// One page of a listing: takes matches until it holds `max`; offered one more, it answers the
// cursor of its last record instead (more follow).
struct page {
    std::size_t max;
    std::vector<const record*>& out;
    std::size_t taken = 0;

    template <class CursorOf>
    std::optional<cursor> take(const record& r, CursorOf cursor_of) {
        if (taken == max) return taken == 0 ? std::nullopt : std::optional<cursor>(cursor_of(*out.back()));
        out.push_back(&r);
        ++taken;
        return std::nullopt;
    }
};
}  // namespace

std::optional<cursor> store::list_for_job(std::string_view job, const list_filter& f,
                                          const std::optional<cursor>& after, std::size_t max,
                                          std::vector<const record*>& out) const {
    auto j = jobs_.find(job);
    if (!j) return std::nullopt;
    auto it = std::lower_bound(by_job_.begin(), by_job_.end(), 0, [&](std::uint32_t idx, int) {
        const auto& r = records_[idx];
        if (after) {
            // first element strictly greater than (job, after.id, after.number)
            if (r.job != *j) return r.job < *j;
            if (r.thing != after->id) return r.thing < after->id;
            return r.number <= after->number;
        }
        return r.job < *j;
    });
    page pg{max, out};
    for (; it != by_job_.end() && records_[*it].job == *j; ++it) {
        const auto& r = records_[*it];
        if (!matches(r, f)) continue;
        if (auto next = pg.take(r, [](const record& last) { return cursor{last.thing, last.number}; })) return next;
    }
    return std::nullopt;
}

std::optional<cursor> store::list_for_thing(std::string_view thing, const list_filter& f,
                                            const std::optional<cursor>& after, std::size_t max,
                                            std::vector<const record*>& out) const {
    auto t = things_.find(thing);
    if (!t) return std::nullopt;
    std::size_t pos;
    if (after) {
        if (after->number == std::numeric_limits<std::int64_t>::max())
            pos = lower_bound(*t, after->id + 1, std::numeric_limits<std::int64_t>::min());
        else
            pos = lower_bound(*t, after->id, after->number + 1);
    } else {
        pos = lower_bound(*t, f.job.value_or(0), std::numeric_limits<std::int64_t>::min());
    }
    page pg{max, out};
    for (; pos < records_.size() && records_[pos].thing == *t; ++pos) {
        const auto& r = records_[pos];
        if (f.job && r.job != *f.job) {
            if (r.job > *f.job) break;
            continue;
        }
        if (!matches(r, f)) continue;
        if (auto next = pg.take(r, [](const record& last) { return cursor{last.job, last.number}; })) return next;
    }
    return std::nullopt;
}

execution store::to_execution(const record& r) const {
    execution e;
    e.thing_name = std::string(thing_name(r));
    e.job_id = std::string(job_id(r));
    e.execution_number = r.number;
    e.status = r.st();
    e.namespace_id = std::string(namespace_id(r));
    e.version_number = r.version;
    e.queued_at = std::chrono::sys_seconds(std::chrono::seconds(r.queued_at));
    e.started_at = std::chrono::sys_seconds(std::chrono::seconds(r.started_at));
    e.last_updated_at = std::chrono::sys_seconds(std::chrono::seconds(r.updated_at));
    e.force_canceled = (r.flags & 2) != 0;
    return e;
}

}  // namespace iotjobs::fake::detail
