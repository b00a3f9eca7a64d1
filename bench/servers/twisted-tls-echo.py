"""Twisted's TLS echo server for Torsion's TLS benchmarks (bench/lib/tls.ts).

The textbook Echo protocol on reactor.listenSSL, with the key and certificate
files the runner wrote, loaded as a PrivateCertificate whose options() are a
CertificateOptions (TLS 1.3 where pyOpenSSL's OpenSSL has it).
Needs python3-twisted and python3-openssl.

Run: /usr/bin/python3 bench/servers/twisted-tls-echo.py PORT KEY_FILE CERT_FILE
It listens on 127.0.0.1:PORT until killed. A missing module ends it at once
with the import error on stderr, which the runner prints as the reason it
skipped this server.

Tests: none (benchmark harness; bench/run.ts exercises it on every run).
"""
import resource
import sys

from twisted.internet import protocol, reactor, ssl


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def main(port, key_file, cert_file):
    # 10,000 idle connections need more descriptors than the usual soft
    # limit; Node and Bun raise theirs to the hard limit at startup, so does this.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(key_file, "rb") as f:
        key = f.read()
    with open(cert_file, "rb") as f:
        cert = f.read()
    options = ssl.PrivateCertificate.loadPEM(key + cert).options()
    factory = protocol.Factory.forProtocol(Echo)
    reactor.listenSSL(port, factory, options, backlog=511, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.stderr.write("usage: twisted-tls-echo.py PORT KEY_FILE CERT_FILE\n")
        sys.exit(2)
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
