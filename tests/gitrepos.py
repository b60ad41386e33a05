"""Fixture builder: small real git repositories (commits, dated tags, files) written with dulwich at test time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dulwich.objects import Blob, Commit, Tag, Tree
from dulwich.repo import Repo

AUTHOR = b"Fixture Maintainer <maintainer@example.org>"

MIT = """MIT License

Copyright (c) 2024 Fixture Maintainer

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

BSD_3 = """BSD 3-Clause License

Copyright (c) 2024, Fixture Maintainer

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def _stamp(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).timestamp())


class GitRepo:
    """A repository built commit by commit: ``commit({path: text or None}, day)``, ``tag(name, day)``."""

    def __init__(self, path: Path, *, bare: bool = False, origin: str | None = None) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.repo = Repo.init_bare(str(path)) if bare else Repo.init(str(path))
        self.files: dict[str, bytes] = {}
        self.head: bytes | None = None
        if origin:
            config = self.repo.get_config()
            config.set((b"remote", b"origin"), b"url", origin.encode())
            config.write_to_path()

    def close(self) -> None:
        self.repo.close()

    def _tree(self, prefix: str) -> bytes:
        tree = Tree()
        children: dict[str, bool] = {}
        for path in self.files:
            if path.startswith(prefix):
                rest = path[len(prefix):]
                name, _, deeper = rest.partition("/")
                children[name] = children.get(name, False) or bool(deeper)
        for name, is_dir in sorted(children.items()):
            if is_dir:
                tree.add(name.encode(), 0o040000, self._tree(f"{prefix}{name}/"))
            else:
                blob = Blob.from_string(self.files[prefix + name])
                self.repo.object_store.add_object(blob)
                tree.add(name.encode(), 0o100644, blob.id)
        self.repo.object_store.add_object(tree)
        return tree.id

    def commit(self, files: dict[str, str | bytes | None], day: str, message: str = "change") -> str:
        for path, content in files.items():
            if content is None:
                self.files.pop(path, None)
            else:
                self.files[path] = content.encode() if isinstance(content, str) else content
        commit = Commit()
        commit.tree = self._tree("")
        commit.parents = [self.head] if self.head else []
        commit.author = commit.committer = AUTHOR
        commit.author_time = commit.commit_time = _stamp(day)
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = b"UTF-8"
        commit.message = message.encode()
        self.repo.object_store.add_object(commit)
        self.head = commit.id
        self.repo.refs[b"refs/heads/main"] = commit.id
        self.repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
        return commit.id.decode()

    def tag(self, name: str, day: str | None = None, commit: str | None = None, annotated: bool = True) -> None:
        target = commit.encode() if commit else self.head
        assert target is not None
        if not annotated:
            self.repo.refs[b"refs/tags/" + name.encode()] = target
            return
        tag = Tag()
        tag.tagger = AUTHOR
        tag.message = f"Release {name}\n".encode()
        tag.name = name.encode()
        tag.object = (Commit, target)
        tag.tag_time = _stamp(day or "2000-01-01")
        tag.tag_timezone = 0
        self.repo.object_store.add_object(tag)
        self.repo.refs[b"refs/tags/" + name.encode()] = tag.id


def pyproject(name: str, version: str | None = None, *, extra: str = "", backend: str = "hatchling.build",
              requires: str = '"hatchling"', dynamic: bool = False) -> str:
    """A pyproject.toml with a [project] table; ``extra`` lines are appended inside [project]."""
    version_line = 'dynamic = ["version"]' if dynamic else f'version = "{version}"'
    return (f'[build-system]\nrequires = [{requires}]\nbuild-backend = "{backend}"\n\n'
            f'[project]\nname = "{name}"\n{version_line}\n{extra}\n')
