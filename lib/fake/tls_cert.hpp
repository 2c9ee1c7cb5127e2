// Throwaway certificates for the fake server's --tls mode (OpenSSL 3).
#pragma once

#include <string>

namespace iotjobs::fake::detail {

struct generated_certs {
    std::string ca_pem;    // the CA certificate clients should trust
    std::string cert_pem;  // server certificate (SAN: IP 127.0.0.1, IP ::1, DNS localhost)
    std::string key_pem;   // server private key (PKCS#8)
};

// A fresh CA (EC P-256, 10 days) and a server certificate it signs. Throws std::runtime_error.
generated_certs generate_certs();

}  // namespace iotjobs::fake::detail
