"""How drf-spectacular describes our API: the API key authentication (imported by ApiConfig.ready), one path
per manage call."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`OAuth <api key>` or `Bearer <api key>` (or the query parameter `api_key`).",
        }


def without_json_twins(endpoints):
    """Leave out the manage API's `.json` twins (api/urls.py's with_json_suffix): each call is described once."""
    return [
        endpoint
        for endpoint in endpoints
        if not endpoint[0].startswith("/api/v1/") or not endpoint[0].endswith(".json")
    ]
