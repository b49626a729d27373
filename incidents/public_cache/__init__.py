"""The public site's cache: precompressed responses served without a query, and safe when Redis fails.

- state.py: what a hit needs to know about a page (its version), kept in the cache, set on commit.
- views.py: the public_view decorator (ETag, 304, stored bytes, render on a miss).
- encoding.py: gzip and Brotli, chosen by Accept-Encoding.
- store.py: the entries, in this process's memory and in the shared cache.
- budget.py: a bound on uncached renders (searches).
- middleware.py: public GET/HEAD requests skip the session, CSRF, auth and messages middleware.
- backend.py: the Redis cache backend with short timeouts and a circuit breaker.
"""
