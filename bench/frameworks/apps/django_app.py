"""Django (WSGI, one file: settings configured in code): the three benchmark scenarios."""
import json

from django.conf import settings

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="bench", MIDDLEWARE=[],
                   INSTALLED_APPS=[], DATABASES={})

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402


def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain")


def json_view(request):
    return JsonResponse({"message": "Hello, World!"})


@require_POST
def echo(request, item):
    return JsonResponse({"id": item, "q": request.GET.get("q"), "body": json.loads(request.body)})


urlpatterns = [path("plaintext", plaintext), path("json", json_view), path("echo/<str:item>", echo)]
app = get_wsgi_application()
