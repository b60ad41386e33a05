"""Klein (own server: Twisted, app.run): the three benchmark scenarios. Usage: python klein_app.py PORT"""
import json as jsonlib
import sys

from klein import Klein

app = Klein()


@app.route("/plaintext")
def plaintext(request):
    request.setHeader("Content-Type", "text/plain")
    return "Hello, World!"


@app.route("/json")
def json(request):
    request.setHeader("Content-Type", "application/json")
    return jsonlib.dumps({"message": "Hello, World!"})


@app.route("/echo/<item>", methods=["POST"])
def echo(request, item):
    request.setHeader("Content-Type", "application/json")
    q = request.args.get(b"q")
    return jsonlib.dumps({"id": item, "q": q[0].decode() if q else None,
                          "body": jsonlib.loads(request.content.read())})


if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]), logFile=open("/dev/null", "w"))  # noqa: SIM115 (for the process' life)
