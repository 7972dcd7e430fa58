"""A hello-world Litestar app: the reference every HTTP figure is compared with."""

from litestar import Litestar, get


@get("/hello", sync_to_thread=False)
def hello() -> dict[str, str]:
    """The smallest useful JSON answer."""
    return {"hello": "world"}


app = Litestar([hello])
