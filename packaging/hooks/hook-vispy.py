"""PyInstaller hook for VisPy, which pyinstaller-hooks-contrib does not provide.

VisPy reads its GLSL shaders, fonts and small data files from its package folder at run time and
loads its application backend with ``__import__`` by name, so neither is found by import analysis.
"""

from PyInstaller.utils.hooks import collect_data_files

# GLSL shaders (vispy/glsl), OpenSans fonts (vispy/util/fonts/data), vispy/io/_data (colormaps etc.).
datas = collect_data_files("vispy", excludes=["**/tests/**"])

hiddenimports = [
    "vispy.app.backends._pyside6",  # the only app backend the console uses; also what pulls PySide6 in
    "vispy.gloo.gl.glplus",  # the "gl+" GL target chosen by scythe_desktop.render.backend
    "vispy.gloo.gl.pyopengl2",
    "OpenGL.platform.egl",  # PyOpenGL picks EGL under Wayland
    "OpenGL.platform.glx",  # and GLX under X11 (PYOPENGL_PLATFORM overrides)
]
