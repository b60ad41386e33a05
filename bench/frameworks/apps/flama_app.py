"""Flama (ASGI): the three benchmark scenarios."""
from flama import Flama, http

app = Flama(docs=None, schema=None)


@app.get("/plaintext")
async def plaintext():
    return http.PlainTextResponse("Hello, World!")


@app.get("/json")
async def json():
    return http.JSONResponse({"message": "Hello, World!"})


@app.post("/echo/{item}")
async def echo(item: str, request: http.Request):
    return http.JSONResponse({"id": item, "q": request.query_params.get("q"), "body": await request.json()})
