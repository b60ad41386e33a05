"""BlackSheep (ASGI): the three benchmark scenarios."""
from blacksheep import Application, Request, text
from blacksheep import json as json_response

app = Application()


@app.router.get("/plaintext")
async def plaintext():
    return text("Hello, World!")


@app.router.get("/json")
async def json():
    return json_response({"message": "Hello, World!"})


@app.router.post("/echo/{item}")
async def echo(request: Request, item: str):
    q = request.query.get("q")
    return json_response({"id": item, "q": q[0] if q else None, "body": await request.json()})
