// Boost.JSON compiled from source for the fuzz build (instrumented like the code under test);
// the normal build links the Boost.JSON library instead.
#include <boost/json/src.hpp>
