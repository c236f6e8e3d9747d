#!/usr/bin/python3
"""The floor under the app's idle memory and launch time (scripts/bench_app.py): WebKitGTK in a GTK
window of the app's size showing one line of text, with no app code, with WebKit's default settings
as the app has them. Prints the app's 'first screen shown' line when the page has loaded. Debian's python3-gi
and gir1.2-webkit2-4.1 (the same WebKitGTK the app links)."""
import time

import gi
gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gtk, WebKit2  # noqa: E402

t0 = time.monotonic()
win = Gtk.Window(title="floor")
win.set_default_size(420, 820)
view = WebKit2.WebView()


def loaded(_view, event):
    if event == WebKit2.LoadEvent.FINISHED:
        print(f"first screen shown startup_ms={int((time.monotonic() - t0) * 1000)}", flush=True)


view.connect("load-changed", loaded)
win.add(view)
win.connect("destroy", Gtk.main_quit)
view.load_html("<!doctype html><meta charset=utf-8><p>警通</p>", "about:blank")
win.show_all()
Gtk.main()
