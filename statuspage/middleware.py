"""The Content-Security-Policy header on every response (settings.CONTENT_SECURITY_POLICY).

It sits before PublicPathMiddleware, so the public pages served from the cache carry it too. The policy
allows no inline script or style: the pages load theirs from static files (a page's accent colour from its
own `accent.css`), so one constant header fits every response and the public pages stay a pure function of
the page's state (no per-response nonce).
"""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
