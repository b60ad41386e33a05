"""Django Ninja (on Django, WSGI, one file): the three benchmark scenarios."""
from typing import Any

from django.conf import settings

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="bench", MIDDLEWARE=[],
                   INSTALLED_APPS=[], DATABASES={})

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import Body, NinjaAPI  # noqa: E402

api = NinjaAPI()


@api.get("/plaintext")
def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain")


@api.get("/json")
def json(request):
    return {"message": "Hello, World!"}


@api.post("/echo/{item}")
def echo(request, item: str, body: Any = Body(...), q: str | None = None):  # noqa: B008 (ninja's way)
    return {"id": item, "q": q, "body": body}


urlpatterns = [path("", api.urls)]
app = get_wsgi_application()
