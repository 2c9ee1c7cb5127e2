// The library's one exception type at its public surface: boost::system::system_error, whose
// what() is "<explanation>: <error message> [<category>:<value>]". Internal code that throws
// std::system_error (configuration and profile parsing) is converted where it leaves the library.
#pragma once

#include <iotjobs/error.hpp>

#include <boost/system/system_error.hpp>

#include <string>
#include <system_error>

namespace iotjobs::detail {

// The explanation a std::system_error was built with (its what() without ": <message>").
inline std::string explanation_of(const std::system_error& e) {
    std::string what = e.what();
    const std::string suffix = ": " + e.code().message();
    if (what.size() > suffix.size() && what.ends_with(suffix)) what.resize(what.size() - suffix.size());
    return what;
}

// Throws `e` as boost::system::system_error with the same code and explanation.
[[noreturn]] inline void rethrow_as_system_error(const std::system_error& e) {
    throw boost::system::system_error(error_code(e.code()), explanation_of(e));
}

// The explanation a boost::system::system_error was built with (its what() without
// ": <message> [<category>:<value>]").
inline std::string explanation_of(const boost::system::system_error& e) {
    std::string what = e.what();
    const std::string suffix = ": " + e.code().what();
    if (what.size() > suffix.size() && what.ends_with(suffix)) what.resize(what.size() - suffix.size());
    return what;
}

}  // namespace iotjobs::detail
