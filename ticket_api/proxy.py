"""Client addresses behind nginx, forwarded only by trusted peers (docs/design.md, "Proxy trust")."""

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxyFix:
    def __init__(self, app, hops, trusted_peers):
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        self.trusted_peers = set(trusted_peers)

    def __call__(self, environ, start_response):
        from_proxy = environ.get("REMOTE_ADDR") in self.trusted_peers
        return (self.fixed if from_proxy else self.app)(environ, start_response)
