"""Select the VisPy backend the render layer needs, once, before any canvas exists.

Instanced drawing (``glDrawArraysInstanced``) and 3-D textures are only available through VisPy's
``gl+`` backend (PyOpenGL); the default ``gl2`` backend lacks them. The application backend is PySide6
because the UI embeds the canvas as a Qt widget. Without an OpenGL library selecting the backend raises
:class:`GLUnavailable` with a message that says what is missing and how to get it. This module knows
nothing of the visuals themselves.
"""

from __future__ import annotations

import re

import vispy

_selected = False
_GL_LIBRARY = re.compile(r"lib(?:Open)?GL[\w.-]*\.so[\w.]*")


class GLUnavailable(RuntimeError):
    """No OpenGL library could be loaded, so nothing can be drawn; the message is for the operator."""


def _missing_library(exc: BaseException) -> str:
    """The GL library an import or loader error names (through its chain), else ``libGL.so.1``."""
    seen: BaseException | None = exc
    while seen is not None:
        match = _GL_LIBRARY.search(" ".join(str(a) for a in (seen, *seen.args)))
        if match:
            return match.group(0)
        seen = seen.__cause__ or seen.__context__
    return "libGL.so.1"


def use_render_backend() -> None:
    """Select ``app='pyside6', gl='gl+'``; safe to call many times, effective only before a canvas exists."""
    global _selected
    if _selected:
        return
    try:
        # PyOpenGL loads libGL through ctypes here; a frozen binary reports a missing one as
        # "Failed to load dynlib/dll", which would send the operator after the build instead of the system.
        vispy.use(gl="gl+")
    except ModuleNotFoundError:
        raise  # PyOpenGL itself is missing: a broken installation, not a system without OpenGL
    except (ImportError, OSError) as exc:
        raise GLUnavailable(
            f"OpenGL is not available ({_missing_library(exc)} not found); install Mesa (libgl1 libgl1-mesa-dri) "
            "or a GPU driver"
        ) from exc
    vispy.use(app="pyside6")
    _selected = True


def gl_finish() -> None:
    """Block until the GL driver has executed every queued command (for honest timings)."""
    from vispy.gloo import gl

    gl.glFinish()


def gl_renderer() -> str:
    """The GL renderer and version strings of the current context (e.g. Mesa llvmpipe), for reports."""
    from OpenGL import GL

    def text(name: int) -> str:
        value = GL.glGetString(name)
        return value.decode() if isinstance(value, bytes) else str(value)

    return f"{text(GL.GL_RENDERER)} / {text(GL.GL_VERSION)}"


__all__ = ["GLUnavailable", "gl_finish", "gl_renderer", "use_render_backend"]
