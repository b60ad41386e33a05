"""CherryPy (own server, cherrypy.quickstart): the three benchmark scenarios. Usage: python cherrypy_app.py PORT"""
import sys

import cherrypy


class Root:
    @cherrypy.expose
    def plaintext(self, **_ignored):  # the harness probes /plaintext?query=…: CherryPy passes it as an argument
        cherrypy.response.headers["Content-Type"] = "text/plain"
        return "Hello, World!"

    @cherrypy.expose
    @cherrypy.tools.json_out()
    def json(self):
        return {"message": "Hello, World!"}

    @cherrypy.expose
    @cherrypy.tools.json_in()
    @cherrypy.tools.json_out()
    def echo(self, item, q=None):
        return {"id": item, "q": q, "body": cherrypy.request.json}


if __name__ == "__main__":
    cherrypy.config.update({"server.socket_host": "127.0.0.1", "server.socket_port": int(sys.argv[1]),
                            "environment": "production", "log.screen": False})
    cherrypy.quickstart(Root())
