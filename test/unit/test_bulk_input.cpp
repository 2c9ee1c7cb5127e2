// The synchronous bulk sources (lib/bulk/sources.cpp): vector, generator, and stream (CSV with a
// header row / JSON Lines / automatic), driven through async_next on an io_context.
#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using iotjobs::bulk_source;
using iotjobs::client_errc;
using iotjobs::delete_job_execution_request;
using iotjobs::error_code;
using iotjobs::input_format;
namespace asio = boost::asio;

namespace {

struct answer {
    error_code ec;
    bulk_source::pull p;
    bool valid() const { return !ec && p.item && !p.invalid; }
    bool invalid() const { return !ec && p.item && p.invalid; }
    bool end() const { return !ec && !p.item; }
    const delete_job_execution_request& req() const { return p.item->request; }
    std::uint64_t line() const { return p.item->line; }
    const std::string& why() const { return *p.invalid; }
};

// One async_next, completed through an io_context (the handler is bound to it).
answer pull_one(bulk_source& s) {
    asio::io_context io;
    std::optional<answer> r;
    s.async_next(asio::bind_executor(io.get_executor(), [&](error_code ec, bulk_source::pull p) {
        r.emplace(answer{ec, std::move(p)});
    }));
    REQUIRE_FALSE(r);  // not run inline: the caller is not on the handler's executor
    io.run();
    REQUIRE(r);
    return std::move(*r);
}

// Pulls until the end or an error (that last answer included).
std::vector<answer> pull_all(bulk_source& s) {
    std::vector<answer> out;
    for (;;) {
        out.push_back(pull_one(s));
        if (!out.back().p.item) return out;
    }
}

std::vector<answer> read_all(const std::string& text, input_format format = input_format::automatic) {
    std::istringstream in(text);
    auto src = iotjobs::make_stream_source(in, format);
    return pull_all(*src);
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

delete_job_execution_request req(std::string thing, std::string job, std::int64_t n) {
    delete_job_execution_request r;
    r.thing_name = std::move(thing);
    r.job_id = std::move(job);
    r.execution_number = n;
    return r;
}

// A stream buffer that makes `lines` CSV lines on demand, handing out at most `piece` bytes per
// underflow, and counts what it handed out.
class generated_lines : public std::streambuf {
public:
    generated_lines(std::uint64_t lines, std::size_t piece) : lines_(lines), piece_(piece) {}
    std::uint64_t handed_out = 0;

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        if (pending_.size() - pos_ == 0) {
            if (next_ > lines_) return traits_type::eof();
            pending_ = next_ == 0 ? "thingName,jobId,executionNumber\n"
                                  : "thing-" + std::to_string(next_) + ",job-" + std::to_string(next_ % 100) + "," +
                                        std::to_string(next_) + "\n";
            pos_ = 0;
            ++next_;
        }
        const std::size_t n = std::min(piece_, pending_.size() - pos_);
        std::memcpy(buf_, pending_.data() + pos_, n);
        pos_ += n;
        handed_out += n;
        setg(buf_, buf_, buf_ + n);
        return traits_type::to_int_type(*gptr());
    }

private:
    std::uint64_t lines_;
    std::size_t piece_;
    std::uint64_t next_ = 0;  // 0 = the header
    std::string pending_;
    std::size_t pos_ = 0;
    char buf_[4096];
};

// Hands out the bytes of a string at most `piece` at a time (and says nothing about availability).
class chunky : public std::streambuf {
public:
    chunky(std::string s, std::size_t piece) : s_(std::move(s)), piece_(piece) {}

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        if (pos_ == s_.size()) return traits_type::eof();
        const std::size_t n = std::min(piece_, s_.size() - pos_);
        setg(s_.data() + pos_, s_.data() + pos_, s_.data() + pos_ + n);
        pos_ += n;
        return traits_type::to_int_type(*gptr());
    }

private:
    std::string s_;
    std::size_t piece_;
    std::size_t pos_ = 0;
};

}  // namespace

TEST_CASE("bulk_outcome_kind names") {
    using K = iotjobs::bulk_outcome_kind;
    CHECK(iotjobs::to_string(K::deleted) == "deleted");
    CHECK(iotjobs::to_string(K::not_found) == "not_found");
    CHECK(iotjobs::to_string(K::refused) == "refused");
    CHECK(iotjobs::to_string(K::failed) == "failed");
    CHECK(iotjobs::to_string(K::not_attempted) == "not_attempted");
    CHECK(iotjobs::to_string(K::invalid_input) == "invalid_input");
    CHECK(iotjobs::to_string(static_cast<K>(99)).empty());
}

TEST_CASE("vector source: items in order, index = position + 1, invalid items flagged") {
    std::vector<delete_job_execution_request> v{req("t1", "j1", 1), req("bad thing", "j2", 2), req("t3", "j3", -3)};
    v[2].force = true;
    v[2].namespace_id = "ns";
    auto src = iotjobs::make_vector_source(std::move(v));
    auto all = pull_all(*src);
    REQUIRE(all.size() == 4);
    CHECK(all[0].valid());
    CHECK(all[0].line() == 1);
    CHECK(all[0].req().thing_name == "t1");
    REQUIRE(all[1].invalid());
    CHECK(all[1].line() == 2);
    CHECK(all[1].why().rfind("item 2: thingName 'bad thing' is invalid", 0) == 0);
    CHECK(all[1].req().thing_name == "bad thing");
    CHECK(all[2].valid());
    CHECK(all[2].req().execution_number == -3);
    CHECK(all[2].req().force == true);
    CHECK(all[2].req().namespace_id == "ns");
    CHECK(all[3].end());
    CHECK(pull_one(*src).end());  // stays at the end
}

TEST_CASE("generator source") {
    SUBCASE("items until nullopt") {
        int n = 0;
        auto src = iotjobs::make_generator_source([&]() -> std::optional<delete_job_execution_request> {
            if (n == 3) return std::nullopt;
            ++n;
            return req("thing-" + std::to_string(n), "job", n);
        });
        auto all = pull_all(*src);
        REQUIRE(all.size() == 4);
        for (int i = 0; i < 3; ++i) {
            CHECK(all[i].valid());
            CHECK(all[i].line() == static_cast<std::uint64_t>(i + 1));
            CHECK(all[i].req().execution_number == i + 1);
        }
        CHECK(all[3].end());
        CHECK(pull_one(*src).end());
        CHECK(n == 3);  // not called again after the end
    }
    SUBCASE("an invalid item") {
        bool given = false;
        auto src = iotjobs::make_generator_source([&]() -> std::optional<delete_job_execution_request> {
            if (given) return std::nullopt;
            given = true;
            return req("t", "job id", 1);
        });
        auto a = pull_one(*src);
        REQUIRE(a.invalid());
        CHECK(a.why().rfind("item 1: jobId 'job id' is invalid", 0) == 0);
        CHECK(pull_one(*src).end());
    }
    SUBCASE("a generator that throws ends the run with an error") {
        auto src = iotjobs::make_generator_source(
            []() -> std::optional<delete_job_execution_request> { throw std::runtime_error("disk on fire"); });
        auto a = pull_one(*src);
        CHECK(a.ec == client_errc::invalid_parameter);
        CHECK_FALSE(a.p.item);
        REQUIRE(a.p.invalid);
        CHECK(contains(*a.p.invalid, "disk on fire"));
        CHECK(pull_one(*src).ec == client_errc::invalid_parameter);
    }
    SUBCASE("an empty function is an empty source") {
        auto src = iotjobs::make_generator_source({});
        CHECK(pull_one(*src).end());
    }
}

TEST_CASE("CSV: header, column order, optional columns, line numbers") {
    SUBCASE("required columns only") {
        auto all = read_all("thingName,jobId,executionNumber\nt1,j1,1\nt2,j2,9223372036854775807\n");
        REQUIRE(all.size() == 3);
        CHECK(all[0].valid());
        CHECK(all[0].line() == 2);
        CHECK(all[0].req().thing_name == "t1");
        CHECK(all[0].req().job_id == "j1");
        CHECK(all[0].req().execution_number == 1);
        CHECK_FALSE(all[0].req().force);
        CHECK_FALSE(all[0].req().namespace_id);
        CHECK(all[1].line() == 3);
        CHECK(all[1].req().execution_number == std::numeric_limits<std::int64_t>::max());
        CHECK(all[2].end());
    }
    SUBCASE("any order, with force and namespaceId") {
        auto all = read_all(
            "namespaceId,executionNumber,force,jobId,thingName\n"
            "ns-1,-9223372036854775808,true,job_1,my:thing\n"
            ",7,,j,t\n");
        REQUIRE(all.size() == 3);
        REQUIRE(all[0].valid());
        CHECK(all[0].req().thing_name == "my:thing");
        CHECK(all[0].req().job_id == "job_1");
        CHECK(all[0].req().execution_number == std::numeric_limits<std::int64_t>::min());
        CHECK(all[0].req().force == true);
        CHECK(all[0].req().namespace_id == "ns-1");
        REQUIRE(all[1].valid());
        CHECK_FALSE(all[1].req().force);         // empty = unset
        CHECK_FALSE(all[1].req().namespace_id);  // empty = unset
    }
    SUBCASE("force values") {
        auto all = read_all(
            "thingName,jobId,executionNumber,force\n"
            "t,j,1,true\nt,j,2,false\nt,j,3,1\nt,j,4,0\nt,j,5,yes\nt,j,6,no\nt,j,7,TRUE\nt,j,8,No\n"
            "t,j,9,\nt,j,10,maybe\nt,j,11,2\n");
        REQUIRE(all.size() == 12);
        const std::optional<bool> expected[] = {true, false, true, false, true, false, true, false, std::nullopt};
        for (std::size_t i = 0; i < 9; ++i) {
            INFO("row " << i);
            REQUIRE(all[i].valid());
            CHECK(all[i].req().force == expected[i]);
        }
        REQUIRE(all[9].invalid());
        CHECK(all[9].why() == "line 11: force 'maybe' is invalid: must be true, false, 1, 0, yes, no or empty");
        CHECK(all[9].req().execution_number == 10);  // partially filled
        REQUIRE(all[10].invalid());
        CHECK(all[10].line() == 12);
        CHECK(all[11].end());
    }
    SUBCASE("blank lines are skipped but counted; the header may follow blank lines") {
        auto all = read_all("\n  \nthingName,jobId,executionNumber\n\nt,j,1\n \t \n\nt,j,2");
        REQUIRE(all.size() == 3);
        CHECK(all[0].line() == 5);
        CHECK(all[1].line() == 8);  // a final line without '\n'
        CHECK(all[1].req().execution_number == 2);
        CHECK(all[2].end());
    }
    SUBCASE("header only, or nothing at all") {
        CHECK(read_all("thingName,jobId,executionNumber\n").front().end());
        CHECK(read_all("thingName,jobId,executionNumber").front().end());
        CHECK(read_all("").front().end());
        CHECK(read_all("\n\r\n  \n").front().end());
    }
}

TEST_CASE("CSV: BOM, CRLF, quotes") {
    SUBCASE("UTF-8 BOM before the header") {
        auto all = read_all("\xEF\xBB\xBFthingName,jobId,executionNumber\r\nt,j,1\r\n");
        REQUIRE(all.size() == 2);
        CHECK(all[0].valid());
        CHECK(all[0].line() == 2);
    }
    SUBCASE("CRLF line endings, the last one too") {
        auto all = read_all("thingName,jobId,executionNumber,namespaceId\r\nt,j,1,ns\r\nt2,j2,2,\r\n");
        REQUIRE(all.size() == 3);
        REQUIRE(all[0].valid());
        CHECK(all[0].req().namespace_id == "ns");  // no '\r' left in the last field
        REQUIRE(all[1].valid());
        CHECK_FALSE(all[1].req().namespace_id);
    }
    SUBCASE("quoted fields") {
        auto all = read_all(
            "\"thingName\",\"jobId\",executionNumber\n"
            "\"t1\",\"j1\",\"42\"\n"
            "\"a,b\",j,1\n"
            "\"a\"\"b\",j,1\n"
            "\"\",j,1\n");
        REQUIRE(all.size() == 5);
        REQUIRE(all[0].valid());
        CHECK(all[0].req().thing_name == "t1");
        CHECK(all[0].req().execution_number == 42);
        REQUIRE(all[1].invalid());
        CHECK(all[1].req().thing_name == "a,b");
        CHECK(contains(all[1].why(), "line 3: thingName 'a,b' is invalid"));
        REQUIRE(all[2].invalid());
        CHECK(all[2].req().thing_name == "a\"b");
        REQUIRE(all[3].invalid());
        CHECK(all[3].req().thing_name.empty());
        CHECK(contains(all[3].why(), "line 5: thingName '' is invalid"));
    }
    SUBCASE("bad quoting is an invalid line, not the end of the run") {
        auto all = read_all(
            "thingName,jobId,executionNumber\n"
            "\"t,j,1\n"
            "\"t\"x,j,1\n"
            "t,j,1\n");
        REQUIRE(all.size() == 4);
        REQUIRE(all[0].invalid());
        CHECK(all[0].why() == "line 2: field 1 opens a quote that is not closed on this line");
        CHECK(all[0].p.raw == "\"t,j,1");
        REQUIRE(all[1].invalid());
        CHECK(contains(all[1].why(), "line 3: field 1 has text after its closing quote"));
        CHECK(all[2].valid());
        CHECK(all[2].line() == 4);
    }
}

TEST_CASE("CSV: invalid rows") {
    const std::string header = "thingName,jobId,executionNumber,namespaceId\n";
    SUBCASE("field count") {
        auto all = read_all(header + "t,j\nt,j,1,ns,extra\nt,j,1,\n");
        REQUIRE(all.size() == 4);
        REQUIRE(all[0].invalid());
        CHECK(all[0].why() == "line 2: has 2 fields, the header has 4");
        CHECK(all[0].req().thing_name == "t");
        CHECK(all[0].req().job_id == "j");
        REQUIRE(all[1].invalid());
        CHECK(all[1].why() == "line 3: has 5 fields, the header has 4");
        CHECK(all[1].req().execution_number == 1);
        CHECK(all[2].valid());
    }
    SUBCASE("every problem of a line is named, with the line number") {
        auto all = read_all(header + "bad thing,bad/job,x1,bad ns\n");
        REQUIRE(all[0].invalid());
        const auto& m = all[0].why();
        CHECK(m.rfind("line 2: thingName 'bad thing' is invalid", 0) == 0);
        CHECK(contains(m, "; jobId 'bad/job' is invalid"));
        CHECK(contains(m, "; executionNumber 'x1' is invalid"));
        CHECK(contains(m, "; namespaceId 'bad ns' is invalid"));
        CHECK(all[0].p.raw == "bad thing,bad/job,x1,bad ns");
    }
    SUBCASE("executionNumber") {
        auto all = read_all(
            "thingName,jobId,executionNumber\n"
            "t,j,\nt,j,+1\nt,j, 1\nt,j,9223372036854775808\nt,j,1.0\nt,j,0x10\nt,j,-\n");
        REQUIRE(all.size() == 8);
        for (std::size_t i = 0; i < 7; ++i) {
            INFO(i);
            REQUIRE(all[i].invalid());
            CHECK(all[i].line() == i + 2);
            CHECK(contains(all[i].why(), "executionNumber"));
            CHECK(all[i].req().thing_name == "t");  // partially filled
        }
        CHECK(contains(all[3].why(), "out of the signed 64-bit range"));
    }
    SUBCASE("names: too long, empty, bad characters, non-UTF-8, NUL") {
        auto all = read_all(header + std::string(129, 'a') + ",j,1,\n" + "t," + std::string(65, 'j') + ",1,\n" +
                            ",j,1,\n" + "t\xC3\xA9,j,1,\n" + "t\xFF,j,1,\n" + "t"s + '\0' + "x,j,1,\n");
        REQUIRE(all.size() == 7);
        for (std::size_t i = 0; i < 6; ++i) {
            INFO(i);
            CHECK(all[i].invalid());
        }
        CHECK(contains(all[0].why(), "thingName"));
        CHECK(contains(all[1].why(), "jobId"));
        CHECK(contains(all[2].why(), "it is empty"));
        CHECK(contains(all[3].why(), "byte 0xC3"));
        CHECK(contains(all[4].why(), "byte 0xFF"));
        CHECK(contains(all[5].why(), "byte 0x00"));
        CHECK(all[5].p.raw == "t"s + '\0' + "x,j,1,");
    }
}

TEST_CASE("CSV: a header that cannot be used fails the source, once and for all") {
    auto check_fatal = [](const std::string& text, std::string_view expected) {
        std::istringstream in(text);
        auto src = iotjobs::make_stream_source(in, input_format::csv);
        auto a = pull_one(*src);
        CHECK(a.ec == client_errc::invalid_parameter);
        CHECK_FALSE(a.p.item);
        REQUIRE(a.p.invalid);
        INFO(*a.p.invalid);
        CHECK(contains(*a.p.invalid, expected));
        auto b = pull_one(*src);  // the same error again
        CHECK(b.ec == client_errc::invalid_parameter);
        CHECK(b.p.invalid == a.p.invalid);
        return *a.p.invalid;
    };
    auto m = check_fatal("thingName,jobId,executionNumber,color\nt,j,1,red\n",
                         "line 1: the CSV header has an unknown column 'color' (column 4)");
    CHECK(contains(m, "thingName, jobId, executionNumber"));
    check_fatal("thingName,JobId,executionNumber\n", "did you mean 'jobId'?");
    check_fatal("\n\nthingName,jobId\n", "line 3: the CSV header has no executionNumber column");
    check_fatal("thingName,jobId,jobId,executionNumber\n", "the column jobId twice (columns 2 and 3)");
    check_fatal("thing-1,job-1,1\nthing-2,job-2,2\n", "is the header row missing?");
    check_fatal("thingName,jobId,executionNumber,\n", "unknown column '' (column 4)");
    check_fatal("\"thingName,jobId,executionNumber\n", "the CSV header is malformed");
    std::string long_header(70000, 'x');  // (appended, not `+`: GCC 12 -Warray-bounds false positive)
    long_header += "\nt,j,1\n";
    check_fatal(long_header, "the CSV header is longer than 65536 bytes");
    // Explicit CSV: a JSON line is not a header.
    check_fatal("{\"thingName\":\"t\",\"jobId\":\"j\",\"executionNumber\":1}\n", "line 1: the CSV header is malformed");
}

TEST_CASE("JSON Lines") {
    SUBCASE("valid lines") {
        auto all = read_all(R"({"thingName":"t1","jobId":"j1","executionNumber":1}
{"executionNumber":"9223372036854775807","jobId":"j2","thingName":"t2","force":true,"namespaceId":"ns"}
{"thingName":"t3","jobId":"j3","executionNumber":-9223372036854775808,"force":"false"}
{"thingName":"t4","jobId":"j4","executionNumber":4,"force":null,"namespaceId":null,"status":"QUEUED"}
)");
        REQUIRE(all.size() == 5);
        for (int i = 0; i < 4; ++i) {
            INFO(i);
            REQUIRE(all[i].valid());
            CHECK(all[i].line() == static_cast<std::uint64_t>(i + 1));
        }
        CHECK(all[0].req().thing_name == "t1");
        CHECK(all[0].req().execution_number == 1);
        CHECK(all[1].req().execution_number == std::numeric_limits<std::int64_t>::max());
        CHECK(all[1].req().force == true);
        CHECK(all[1].req().namespace_id == "ns");
        CHECK(all[2].req().execution_number == std::numeric_limits<std::int64_t>::min());
        CHECK(all[2].req().force == false);
        CHECK_FALSE(all[3].req().force);         // null = missing
        CHECK_FALSE(all[3].req().namespace_id);  // null = missing; unknown members are ignored
        CHECK(all[4].end());
    }
    SUBCASE("a report line can be fed back as input") {
        auto all = read_all(R"({"line":7,"thingName":"t","jobId":"j","executionNumber":3,"force":true,)"
                            R"("outcome":"failed","error":"ThrottlingException","attempts":3})");
        REQUIRE(all[0].valid());
        CHECK(all[0].req().execution_number == 3);
        CHECK(all[0].line() == 1);
    }
    SUBCASE("invalid lines") {
        struct c {
            std::string line;
            std::string expected;
        };
        const std::vector<c> cases = {
            {R"({"thingName":"t","jobId":"j"})", "executionNumber is missing"},
            {R"({"jobId":"j","executionNumber":1})", "thingName is missing"},
            {R"({"thingName":"t","executionNumber":1})", "jobId is missing"},
            {R"({"thingName":null,"jobId":"j","executionNumber":1})", "thingName is missing"},
            {R"({"thingName":5,"jobId":"j","executionNumber":1})", "thingName must be a string"},
            {R"({"thingName":"t","jobId":["j"],"executionNumber":1})", "jobId must be a string"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1.5})", "executionNumber is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1e2})", "executionNumber is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":9223372036854775808})",
             "executionNumber 9223372036854775808 is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":99999999999999999999})", "executionNumber is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":"1.0"})", "executionNumber '1.0' is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":""})", "executionNumber '' is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":true})",
             "executionNumber must be an integer or a string of decimal digits"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1,"force":"yes"})", "force is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1,"force":1})", "force is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1,"namespaceId":""})", "namespaceId '' is invalid"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1,"namespaceId":3})", "namespaceId must be a string"},
            {R"({"thingName":"a b","jobId":"j","executionNumber":1})", "thingName 'a b' is invalid"},
            {R"({"ThingName":"t","jobId":"j","executionNumber":1})",
             "unknown member 'ThingName': member names are case-sensitive, did you mean 'thingName'?"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1,"namespaceID":"ns"})", "did you mean 'namespaceId'?"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1)", "not valid JSON"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1}})", "not valid JSON"},
            {R"({"thingName":"t","jobId":"j","executionNumber":1,})", "not valid JSON"},
            {R"(["t","j",1])", "not a JSON object"},
            {"{\"thingName\":\"t\xFF\",\"jobId\":\"j\",\"executionNumber\":1}", "not valid JSON"},
            {"{\"thingName\":\"t"s + '\0' + "\",\"jobId\":\"j\",\"executionNumber\":1}", "not valid JSON"},
            {"{\"thingName\":\"t\",\"jobId\":\"j\",\"executionNumber\":1}"s + '\0', "not valid JSON"},
            {R"({"thingName":"t\u00e9","jobId":"j","executionNumber":1})", "thingName 't\\xC3\\xA9' is invalid"},
        };
        std::string text = "{\"thingName\":\"first\",\"jobId\":\"j\",\"executionNumber\":0}\n";
        for (const auto& x : cases) text += x.line + "\n";
        auto all = read_all(text);
        REQUIRE(all.size() == cases.size() + 2);
        CHECK(all[0].valid());
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const auto& a = all[i + 1];
            INFO(cases[i].line);
            REQUIRE(a.invalid());
            CHECK(a.line() == i + 2);
            CHECK(a.why().rfind("line " + std::to_string(i + 2) + ": ", 0) == 0);
            CHECK(contains(a.why(), cases[i].expected));
            CHECK(a.p.raw == cases[i].line);
        }
        CHECK(all.back().end());
    }
    SUBCASE("partially filled requests and several problems") {
        auto all = read_all(R"({"thingName":"t","jobId":"bad job","executionNumber":"x"})"
                            "\n"
                            R"({"thingName":"t","jobId":"j","executionNumber":5,"force":"no"})"
                            "\n");
        REQUIRE(all[0].invalid());
        CHECK(all[0].req().thing_name == "t");
        CHECK(all[0].req().job_id == "bad job");
        CHECK(contains(all[0].why(), "jobId 'bad job' is invalid"));
        CHECK(contains(all[0].why(), "; executionNumber 'x' is invalid"));
        REQUIRE(all[1].invalid());
        CHECK(all[1].req().execution_number == 5);
    }
    SUBCASE("CRLF and blank lines") {
        auto all = read_all(
            "\r\n{\"thingName\":\"t\",\"jobId\":\"j\",\"executionNumber\":1}\r\n\r\n"
            "{\"thingName\":\"t\",\"jobId\":\"j\",\"executionNumber\":2}");
        REQUIRE(all.size() == 3);
        CHECK(all[0].line() == 2);
        CHECK(all[1].line() == 4);
        CHECK(all[1].req().execution_number == 2);
    }
}

TEST_CASE("JSON Lines: a report fed back as input") {
    // An invalid_input line of this version (no item members), one of an older version (with
    // placeholders that look like an item), a deleted line, a carried line and a purge
    // verification line.
    const std::string text =
        R"({"line":4,"outcome":"invalid_input","error":"bad","message":"line 4: thingName 'bad thing' is invalid","attempts":0,"input":"bad thing,j,1"})"
        "\n"
        R"({"line":5,"thingName":"t5","jobId":"j","executionNumber":0,"outcome":"invalid_input","message":"line 5: x","input":"t5,j"})"
        "\n"
        R"({"line":2,"thingName":"t2","jobId":"j","executionNumber":2,"outcome":"deleted","attempts":1})"
        "\n"
        R"({"line":3,"thingName":"t3","jobId":"j","executionNumber":3,"outcome":"deleted","attempts":1,"carried":true})"
        "\n"
        R"({"verify":"still_present","thingName":"t9","jobId":"j","executionNumber":9,"status":"QUEUED","reason":"refused"})"
        "\n"
        R"({"line":6,"outcome":"invalid_input"})"
        "\n";
    auto all = read_all(text);
    REQUIRE(all.size() == 6);  // the verification line is not an item
    REQUIRE(all[0].invalid());
    CHECK(all[0].line() == 1);
    CHECK(all[0].why() ==
          "line 1: an invalid_input line of a report, not an item (it was: thingName 'bad thing' is invalid)");
    CHECK(all[0].p.raw == "bad thing,j,1");  // the original input, carried on
    REQUIRE(all[1].invalid());               // placeholders do not make it a request
    CHECK(all[1].p.raw == "t5,j");
    REQUIRE(all[2].valid());
    CHECK(all[2].req().thing_name == "t2");
    REQUIRE(all[3].valid());
    CHECK(all[3].req().thing_name == "t3");
    REQUIRE(all[4].invalid());
    CHECK(all[4].line() == 6);
    CHECK(all[4].p.raw == R"({"line":6,"outcome":"invalid_input"})");  // no input member: the line itself
    CHECK(all[5].end());

    // Fed back again: the same words, not nested.
    const std::string again =
        R"x({"line":1,"outcome":"invalid_input","message":"line 1: an invalid_input line of a report, not an item (it was: thingName 'bad thing' is invalid)","attempts":0,"input":"bad thing,j,1"})x"
        "\n";
    auto second = read_all(again);
    REQUIRE(second[0].invalid());
    CHECK(second[0].why() ==
          "line 1: an invalid_input line of a report, not an item (it was: thingName 'bad thing' is invalid)");
}

TEST_CASE("predicted delete outcomes") {
    using iotjobs::bulk_outcome_kind;
    using iotjobs::job_execution_status;
    using iotjobs::predict_delete_outcome;
    for (auto st : {job_execution_status::succeeded, job_execution_status::failed, job_execution_status::timed_out,
                    job_execution_status::rejected, job_execution_status::removed, job_execution_status::canceled}) {
        CHECK(predict_delete_outcome(st, false) == bulk_outcome_kind::deleted);
        CHECK(predict_delete_outcome(st, true) == bulk_outcome_kind::deleted);
    }
    for (auto st : {job_execution_status::queued, job_execution_status::in_progress}) {
        CHECK(predict_delete_outcome(st, false) == bulk_outcome_kind::refused);
        CHECK(predict_delete_outcome(st, true) == bulk_outcome_kind::deleted);
    }
}

TEST_CASE("format detection") {
    const std::string jsonl = "{\"thingName\":\"t\",\"jobId\":\"j\",\"executionNumber\":1}\n";
    const std::string csv = "thingName,jobId,executionNumber\nt,j,1\n";
    SUBCASE("automatic") {
        CHECK(read_all(jsonl)[0].valid());
        CHECK(read_all("\n \n  \t" + jsonl)[0].valid());
        CHECK(read_all("\xEF\xBB\xBF" + jsonl)[0].valid());
        CHECK(read_all("\xEF\xBB\xBF\r\n" + jsonl)[0].line() == 2);
        CHECK(read_all(csv)[0].valid());
        CHECK(read_all(csv)[0].line() == 2);
    }
    SUBCASE("explicit") {
        CHECK(read_all(jsonl, input_format::jsonl)[0].valid());
        CHECK(read_all(csv, input_format::csv)[0].valid());
        auto as_jsonl = read_all(csv, input_format::jsonl);  // every CSV line is then an invalid JSON line
        REQUIRE(as_jsonl.size() == 3);
        CHECK(as_jsonl[0].invalid());
        CHECK(as_jsonl[1].invalid());
        CHECK(contains(as_jsonl[1].why(), "line 2: not valid JSON"));
    }
}

TEST_CASE("long lines") {
    const std::string header = "thingName,jobId,executionNumber\n";
    SUBCASE("a line over 64 KiB is invalid and skipped; the next line keeps its number") {
        const std::string huge = "t" + std::string(100'000, 'x') + ",j,1";
        auto all = read_all(header + huge + "\nt,j,2\n" + huge);  // the last one without '\n'
        REQUIRE(all.size() == 4);
        REQUIRE(all[0].invalid());
        CHECK(all[0].line() == 2);
        CHECK(all[0].why() == "line 2: longer than 65536 bytes (the rest of the line was skipped)");
        CHECK(all[0].p.raw == huge.substr(0, 65536));  // as much as is read: 64 KiB
        REQUIRE(all[1].valid());
        CHECK(all[1].line() == 3);
        CHECK(all[1].req().execution_number == 2);
        REQUIRE(all[2].invalid());
        CHECK(all[2].line() == 4);
        CHECK(all[3].end());
    }
    SUBCASE("65536 bytes are fine, 65537 are not") {
        const std::string ok = "t,j," + std::string(65536 - 4, '1');
        const std::string too_long = ok + "1";
        auto all = read_all(header + ok + "\n" + too_long + "\r\nt,j,3\n");
        REQUIRE(all.size() == 4);
        REQUIRE(all[0].invalid());
        CHECK(contains(all[0].why(), "executionNumber"));  // parsed, then refused for its value
        REQUIRE(all[1].invalid());
        CHECK(contains(all[1].why(), "longer than 65536 bytes"));
        CHECK(all[2].valid());
        CHECK(all[2].line() == 4);
    }
    SUBCASE("the raw input of an invalid line is the whole line, not cut short") {
        const std::string line = std::string(199, 'a') + "\xC3\xA9" + std::string(10'000, 'b') + ",j,1";
        auto all = read_all(header + line + "\n");
        REQUIRE(all[0].invalid());
        CHECK(all[0].p.raw == line);
    }
}

TEST_CASE("stream reading: small pieces, lazily, unreadable streams") {
    SUBCASE("a stream handing out a few bytes at a time reads the same") {
        std::string text = "\xEF\xBB\xBFthingName,jobId,executionNumber\r\n";
        for (int i = 1; i <= 300; ++i)
            text += (i % 7 == 0 ? "bad thing" : "t" + std::to_string(i)) + ",j," + std::to_string(i) + "\r\n";
        text += std::string(70'000, 'z') + "\n";
        text += "t,j,301";
        const auto expected = read_all(text);
        REQUIRE(expected.size() == 303);
        for (std::size_t piece : {1u, 2u, 3u, 7u, 64u, 4096u}) {
            INFO("piece " << piece);
            chunky buf(text, piece);
            std::istream in(&buf);
            auto src = iotjobs::make_stream_source(in);
            auto all = pull_all(*src);
            REQUIRE(all.size() == expected.size());
            for (std::size_t i = 0; i < all.size(); ++i) {
                CHECK(all[i].ec == expected[i].ec);
                CHECK(all[i].p.invalid == expected[i].p.invalid);
                CHECK(all[i].p.raw == expected[i].p.raw);
                if (all[i].p.item) {
                    CHECK(all[i].line() == expected[i].line());
                    CHECK(all[i].req().thing_name == expected[i].req().thing_name);
                    CHECK(all[i].req().execution_number == expected[i].req().execution_number);
                }
            }
        }
    }
    SUBCASE("the input is read as it is consumed, never whole") {
        generated_lines gen(1'000'000, 4096);
        std::istream in(&gen);
        auto src = iotjobs::make_stream_source(in);
        auto first = pull_one(*src);
        REQUIRE(first.valid());
        CHECK(first.req().thing_name == "thing-1");
        CHECK(gen.handed_out <= 256 * 1024);
        for (int i = 0; i < 20'000; ++i) REQUIRE(pull_one(*src).valid());
        CHECK(gen.handed_out <= 20'001 * 40 + 256 * 1024);
    }
    SUBCASE("a stream that failed to open is an error") {
        std::istringstream in("thingName,jobId,executionNumber\nt,j,1\n");
        in.setstate(std::ios::failbit);
        auto src = iotjobs::make_stream_source(in);
        auto a = pull_one(*src);
        CHECK(a.ec == boost::system::errc::io_error);
        REQUIRE(a.p.invalid);
        CHECK(contains(*a.p.invalid, "not readable"));
    }
}

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Pulls everything from a coroutine, as the engine does; returns (items, invalid items).
asio::awaitable<void> drain(bulk_source& s, std::uint64_t& items, std::uint64_t& invalid, std::uint64_t& last_line) {
    for (;;) {
        auto [ec, p] = co_await asio::async_initiate<decltype(use_tuple), void(error_code, bulk_source::pull)>(
            [&s](auto handler) {
                s.async_next(asio::any_completion_handler<void(error_code, bulk_source::pull)>(std::move(handler)));
            },
            use_tuple);
        if (ec || !p.item) co_return;
        ++items;
        if (p.invalid) ++invalid;
        last_line = p.item->line;
    }
}

}  // namespace

TEST_CASE("a coroutine pulling many items completing inline keeps a flat stack") {
    // Completions run inline on the consumer's executor; without the trampoline in sync_source
    // every item would nest one more stack level (and this overflows well before 300,000).
    constexpr std::uint64_t n = 300'000;
    SUBCASE("single-threaded, on a strand") {
        std::string text;
        text.reserve(n * 8);
        for (std::uint64_t i = 0; i < n; ++i) text += "not json\n";
        std::istringstream in(text);
        auto src = iotjobs::make_stream_source(in, input_format::jsonl);
        std::uint64_t items = 0, invalid = 0, last = 0;
        asio::io_context io;
        asio::co_spawn(asio::make_strand(io), drain(*src, items, invalid, last), asio::detached);
        io.run();
        CHECK(items == n);
        CHECK(invalid == n);
        CHECK(last == n);
    }
    SUBCASE("two threads, on a strand") {
        std::vector<delete_job_execution_request> v(n, req("t", "j", 1));
        auto src = iotjobs::make_vector_source(std::move(v));
        std::uint64_t items = 0, invalid = 0, last = 0;
        asio::thread_pool pool(2);
        asio::co_spawn(asio::make_strand(pool), drain(*src, items, invalid, last), asio::detached);
        pool.join();
        CHECK(items == n);
        CHECK(invalid == 0);
        CHECK(last == n);
    }
}
