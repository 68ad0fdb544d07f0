"""Select the VisPy backend the render layer needs, once, before any canvas exists.

Instanced drawing (``glDrawArraysInstanced``) and 3-D textures are only available through VisPy's
``gl+`` backend (PyOpenGL); the default ``gl2`` backend lacks them. The application backend is PySide6
because the UI embeds the canvas as a Qt widget. This module knows nothing of the visuals themselves.
"""

from __future__ import annotations

import vispy

_selected = False


def use_render_backend() -> None:
    """Select ``app='pyside6', gl='gl+'``; safe to call many times, effective only before a canvas exists."""
    global _selected
    if _selected:
        return
    vispy.use(app="pyside6", gl="gl+")
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


__all__ = ["gl_finish", "gl_renderer", "use_render_backend"]
