// The connection pool's bookkeeping, without I/O and without a clock: slots (connections open or
// being opened) against a capacity, the idle list, the FIFO of calls waiting for a connection, and
// every deadline the pool watches (a waiter's acquire deadline, a connection step's deadline, the
// descriptor-limit probe) behind the one timer its owner injects. The owner (connection_pool.cpp)
// calls it under its own mutex with the current time; nothing here blocks, allocates per call on
// the fast path or reads a clock, so the unit tests drive it with a mock clock and a mock timer.
//
// Running out of file descriptors: when opening a connection fails with EMFILE/ENFILE, the owner
// calls lower_capacity(): the slot is given back and the pool's capacity becomes what it holds, so
// the calls wait for those connections instead of failing. While calls wait, a probe raises the
// capacity by one every `descriptor_retry` (the first call in line then tries to open a
// connection), back to max_size; with nobody waiting nothing is watched, so an idle pool keeps no
// timer running.
#pragma once

#include <iotjobs/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace iotjobs::detail {

using pool_clock = std::chrono::steady_clock;
using pool_time = pool_clock::time_point;

// The pool's one timer. The core arms it at the earliest deadline it knows of (arming again
// replaces the previous arming) and cancels it when nothing is left to watch; the owner calls
// pool_core::on_timer(now) when the latest arming fires (never for a replaced or cancelled one).
class pool_timer {
public:
    virtual void arm(pool_time at) = 0;
    virtual void cancel() = 0;

protected:
    ~pool_timer() = default;
};

// A doubly linked list threaded through the `Prev` and `Next` members of its nodes: no allocation,
// O(1) append and removal of any node.
template <class T, T* T::*Prev, T* T::*Next>
struct intrusive_list {
    T* head = nullptr;
    T* tail = nullptr;

    void push_back(T& n) noexcept {
        n.*Next = nullptr;
        n.*Prev = tail;
        if (tail)
            tail->*Next = &n;
        else
            head = &n;
        tail = &n;
    }

    void erase(T& n) noexcept {
        if (n.*Prev)
            (n.*Prev)->*Next = n.*Next;
        else
            head = n.*Next;
        if (n.*Next)
            (n.*Next)->*Prev = n.*Prev;
        else
            tail = n.*Prev;
        n.*Prev = n.*Next = nullptr;
    }
};

// An entry of the pool's deadline list: a waiter, a connection's step, or the probe.
struct deadline_entry {
    enum class kind : unsigned char { waiter, step, probe };
    explicit deadline_entry(kind k) noexcept : what(k) {}
    deadline_entry(const deadline_entry&) = delete;
    deadline_entry& operator=(const deadline_entry&) = delete;

    pool_time deadline = pool_time::max();
    deadline_entry* prev = nullptr;
    deadline_entry* next = nullptr;
    bool listed = false;
    bool fired = false;  // the deadline passed while listed (a step stays listed until it ends)
    kind what;
};

// Entries with deadlines, in the order they were added, and the timer over them. The timer is lazy: armed only while
// the list is not empty, at the earliest deadline known when an entry was added; when it fires,
// the entries past their deadline are fired and it is armed again at the earliest one left. An
// entry removed in time costs no timer operation unless it was the last one.
class deadline_list {
public:
    explicit deadline_list(pool_timer& t) noexcept : timer_(t) {}

    void add(deadline_entry& e, pool_time at) {
        e.deadline = at;
        e.fired = false;
        if (!e.listed) {  // appended: waiters (FIFO, one acquire timeout) stay in deadline order
            e.listed = true;
            list_.push_back(e);
        }
        if (!armed_ || at < armed_at_) arm(at);
    }

    void remove(deadline_entry& e) {
        if (!e.listed) return;
        e.listed = false;
        list_.erase(e);
        if (!list_.head && armed_) {  // nothing to watch: do not keep the owner's executor busy
            armed_ = false;
            timer_.cancel();
        }
    }

    // The timer fired: calls fire(entry) for each listed entry past its deadline that has not
    // fired yet (marked fired first; fire may add and remove entries, this one included), then
    // arms the timer at the earliest deadline left. The scan starts over after each fire, as the
    // list may have changed; fired entries are skipped, so it ends. Waiters, added in line order
    // with one acquire timeout, are due from the front: a burst of timeouts costs little.
    template <class Fire>
    void expire(pool_time now, Fire&& fire) {
        armed_ = false;
        for (;;) {
            deadline_entry* due = list_.head;
            while (due && (due->fired || due->deadline > now)) due = due->next;
            if (!due) break;
            due->fired = true;
            fire(*due);
        }
        pool_time earliest = pool_time::max();
        for (deadline_entry* e = list_.head; e; e = e->next)
            if (!e->fired) earliest = std::min(earliest, e->deadline);
        if (earliest != pool_time::max()) arm(earliest);
    }

    bool empty() const noexcept { return list_.head == nullptr; }
    bool armed() const noexcept { return armed_; }

private:
    void arm(pool_time at) {
        armed_ = true;
        armed_at_ = at;
        timer_.arm(at);
    }

    pool_timer& timer_;
    intrusive_list<deadline_entry, &deadline_entry::prev, &deadline_entry::next> list_;
    bool armed_ = false;
    pool_time armed_at_{};
};

// The bookkeeping of one pool of `Conn`s. Conn derives from deadline_entry (kind::step) and has
// `void on_deadline()`, called when a step watched with watch() passes its deadline.
template <class Conn>
class pool_core {
public:
    using duration = pool_clock::duration;

    struct params {
        std::size_t max_size = 1;                                    // connections at most (0 counts as 1)
        duration idle_timeout{};                                     // idle longer than this: closed (zero: never)
        duration descriptor_retry = std::chrono::milliseconds(500);  // probe period after EMFILE
    };

    // A call waiting for a connection. complete() is called once, by the core, under the owner's
    // lock: no error with a connection (an idle one) or without (the right to open one: the slot
    // is the waiter's), or pool_acquire_timeout, pool_closed, or the error given to abandon().
    class waiter : public deadline_entry {
    public:
        waiter() noexcept : deadline_entry(kind::waiter) {}
        virtual void complete(error_code ec, std::unique_ptr<Conn> conn) = 0;
        bool waiting() const noexcept { return queued_; }

    protected:
        ~waiter() = default;

    private:
        friend pool_core;
        waiter* q_prev_ = nullptr;
        waiter* q_next_ = nullptr;
        bool queued_ = false;
    };

    enum class acquired {
        idle,    // `out` holds an idle connection
        open,    // a slot to open a connection with (`out` stays null)
        wait,    // full: enqueue() a waiter
        closed,  // close() was called
    };

    struct counts {
        std::size_t open = 0;    // connections open or being opened
        std::size_t leased = 0;  // slots in use (a connection, or the right to open one)
        std::size_t idle = 0;
        std::size_t waiting = 0;
        std::size_t capacity = 0;  // max_size, or less after running out of descriptors
    };

    pool_core(params p, pool_timer& t)
        : max_(std::max<std::size_t>(p.max_size, 1)),
          capacity_(max_),
          idle_timeout_(p.idle_timeout),
          retry_(p.descriptor_retry),
          deadlines_(t) {}
    pool_core(const pool_core&) = delete;
    pool_core& operator=(const pool_core&) = delete;

    // The one way in: the most recently used idle connection that has not outlived idle_timeout
    // (older ones are closed), else a slot to open one while the pool is under capacity.
    acquired acquire(pool_time now, std::unique_ptr<Conn>& out) {
        if (closed_) return acquired::closed;
        while (!idle_.empty()) {
            idle_entry e = std::move(idle_.back());
            idle_.pop_back();
            if (expired(e, now)) {
                --open_;
                continue;
            }
            ++leased_;
            out = std::move(e.conn);
            return acquired::idle;
        }
        if (queue_.head || open_ >= capacity_) return acquired::wait;
        ++open_;
        ++leased_;
        return acquired::open;
    }

    // Puts `w` last in line after acquire() said wait; it fails with pool_acquire_timeout at
    // `deadline` (max: never).
    void enqueue(pool_time now, waiter& w, pool_time deadline) {
        w.queued_ = true;
        queue_.push_back(w);
        ++waiting_;
        if (deadline != pool_time::max()) deadlines_.add(w, deadline);
        if (capacity_ < max_ && !probe_.listed && !closed_) deadlines_.add(probe_, now + retry_);
    }

    // A waiter that gives up (cancelled): completed with `ec` unless it was served already.
    void abandon(waiter& w, error_code ec) {
        if (!w.queued_) return;
        dequeue(w);
        w.complete(ec, nullptr);
    }

    // Gives a leased slot back with its connection (kept alive: to the first waiter, else idle)
    // or without (null: the connection is gone; the slot goes to the first waiter, to open one).
    void release(pool_time now, std::unique_ptr<Conn> c) {
        --leased_;
        if (closed_) c.reset();
        if (!c) --open_;
        if (c) {
            if (waiter* w = queue_.head) {
                dequeue(*w);
                ++leased_;
                w->complete({}, std::move(c));
                return;
            }
            drop_expired_idle(now);
            idle_.push_back({std::move(c), now});
            return;
        }
        grant_open_slots();
    }

    // Opening a connection on a leased slot failed for want of file descriptors: the slot is
    // given back without serving anyone and the capacity becomes what the pool holds (the caller
    // acquires again and waits for one of those; the probe restarts its period when it does).
    // True the first time in the pool's life.
    bool lower_capacity() {
        --leased_;
        --open_;
        capacity_ = std::min(capacity_, open_);
        deadlines_.remove(probe_);
        const bool first = !descriptors_ran_out_;
        descriptors_ran_out_ = true;
        return first;
    }

    // A connection's step (TLS handshake, one request/response) that must end by `deadline`:
    // c.on_deadline() is called if it is still watched then.
    void watch(Conn& c, pool_time deadline) { deadlines_.add(c, deadline); }
    // The step ended: false when its deadline had fired.
    bool unwatch(Conn& c) {
        deadlines_.remove(c);
        return !c.fired;
    }

    // The latest arming of the timer fired.
    void on_timer(pool_time now) {
        deadlines_.expire(now, [&](deadline_entry& e) {
            switch (e.what) {
            case deadline_entry::kind::waiter: {
                auto& w = static_cast<waiter&>(e);
                dequeue(w);
                w.complete(make_error_code(client_errc::pool_acquire_timeout), nullptr);
                break;
            }
            case deadline_entry::kind::step: static_cast<Conn&>(e).on_deadline(); break;
            case deadline_entry::kind::probe:
                deadlines_.remove(probe_);
                raise_capacity(now);
                break;
            }
        });
    }

    // Closes the idle connections (client::cancel()); the pool stays open.
    void close_idle() {
        open_ -= idle_.size();
        idle_.clear();
    }

    // Closes the pool for good: idle connections closed, waiters failed with pool_closed, later
    // acquire() calls answered `closed`, connections released later closed.
    void close() {
        closed_ = true;
        close_idle();
        deadlines_.remove(probe_);
        while (waiter* w = queue_.head) {
            dequeue(*w);
            w->complete(make_error_code(client_errc::pool_closed), nullptr);
        }
    }

    bool closed() const noexcept { return closed_; }

    counts stats() const noexcept { return {open_, leased_, idle_.size(), waiting_, capacity_}; }

private:
    struct idle_entry {
        std::unique_ptr<Conn> conn;
        pool_time since;
    };

    bool expired(const idle_entry& e, pool_time now) const noexcept {
        return idle_timeout_.count() > 0 && now - e.since > idle_timeout_;
    }

    // The idle list is oldest first: close those past idle_timeout from the front.
    void drop_expired_idle(pool_time now) {
        auto first_kept =
            std::find_if(idle_.begin(), idle_.end(), [&](const idle_entry& e) { return !expired(e, now); });
        open_ -= static_cast<std::size_t>(first_kept - idle_.begin());
        idle_.erase(idle_.begin(), first_kept);
    }

    void dequeue(waiter& w) {
        w.queued_ = false;
        queue_.erase(w);
        --waiting_;
        deadlines_.remove(w);
        if (!queue_.head) deadlines_.remove(probe_);  // nobody to open a connection for
    }

    // Slots free under the capacity go to the waiters first in line, to open connections.
    void grant_open_slots() {
        while (queue_.head && open_ < capacity_) {
            waiter& w = *queue_.head;
            dequeue(w);
            ++open_;
            ++leased_;
            w.complete({}, nullptr);
        }
    }

    void raise_capacity(pool_time now) {
        capacity_ = std::min(max_, capacity_ + 1);
        grant_open_slots();
        if (capacity_ < max_ && queue_.head) deadlines_.add(probe_, now + retry_);
    }

    const std::size_t max_;
    std::size_t capacity_;
    const duration idle_timeout_;
    const duration retry_;
    deadline_list deadlines_;
    deadline_entry probe_{deadline_entry::kind::probe};
    std::vector<idle_entry> idle_;                                      // oldest first
    intrusive_list<waiter, &waiter::q_prev_, &waiter::q_next_> queue_;  // the calls waiting, in arrival order
    std::size_t waiting_ = 0;
    std::size_t open_ = 0;
    std::size_t leased_ = 0;
    bool closed_ = false;
    bool descriptors_ran_out_ = false;
};

}  // namespace iotjobs::detail
