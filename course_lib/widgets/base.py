"""The skeleton every explorer shares: ``compute`` -> ``update`` (figure made once, then redrawn) -> ``widget``.

An explorer subclasses :class:`Explorer` and supplies only what is its own:

* ``compute(...) -> dict``: the numbers, no drawing (its arguments are the explorer's knobs);
* ``_create(result)``: the axes and artists of ``self.fig``, made once, on the first update;
* ``_draw(result, **params)``: move the artists' data for a result (``params``: the arguments of ``compute``,
  by name, defaults filled in);
* ``_controls(**start) -> (rows, controls, read)``: the ipywidgets rows shown, the controls whose changes
  redraw, and ``read() -> dict``, the arguments of ``update`` for the controls' current values;
* ``_status(result, **params) -> str``: the status line (HTML) under the controls.
"""

from __future__ import annotations

import inspect

from .layout import TestSet, explorer_box

__all__ = ["Explorer"]


def _own(cls, fn, name: str, signature, doc: str) -> None:
    """Install ``fn`` as ``cls.<name>`` with ``signature`` and ``doc`` (what ``help()`` shows)."""
    fn.__name__, fn.__qualname__, fn.__doc__ = name, f"{cls.__qualname__}.{name}", doc
    fn.__signature__ = signature
    setattr(cls, name, fn)


class Explorer:
    """The base of the notebooks' explorers: the figure, ``update`` and ``widget``.

    ``update`` computes, creates ``self.fig`` (a :class:`matplotlib.figure.Figure`, not pyplot's: no
    ``plt.show()`` or cell end shows it again) and its artists once, and afterwards only moves their
    data; ``widget`` lays out the controls, the status line and the figure
    (:func:`.layout.explorer_box`).
    """

    #: the explorer's figure (``None`` until the first :meth:`update`)
    fig = None

    def __init_subclass__(cls, **kwargs):
        """Give each explorer an ``update`` and a ``widget`` that show its own arguments (``help()``, Shift-Tab)."""
        super().__init_subclass__(**kwargs)
        if "update" not in cls.__dict__ and "compute" in cls.__dict__:
            def update(self, *args, **params):
                return Explorer.update(self, *args, **params)
            _own(cls, update, "update", inspect.signature(cls.compute), Explorer.update.__doc__)
        if "widget" not in cls.__dict__ and "_controls" in cls.__dict__:
            signature = inspect.signature(cls._controls)

            def widget(self, **start):
                try:
                    signature.bind(self, **start)
                except TypeError as exc:
                    raise TypeError(f"{type(self).__name__}.widget(): {exc}") from None
                return Explorer.widget(self, **start)
            _own(cls, widget, "widget", signature.replace(return_annotation="ipywidgets.VBox"), Explorer.widget.__doc__)
    #: the figure's size in inches
    figsize = (8.5, 2.8)

    def _adopt(self, model, test) -> None:
        """Keep a checked model (put in eval mode) and its test split as tensors: only after every check."""
        self.model = model.eval()
        self._test = TestSet(test)

    def compute(self, *args, **kwargs) -> dict:  # pragma: no cover - every explorer defines it
        """The numbers the explorer shows for its knobs (no drawing)."""
        raise NotImplementedError

    def update(self, *args, **kwargs) -> dict:
        """Compute and redraw the figure: the artists are created once; an update only moves their data.

        Parameters
        ----------
        *args, **kwargs
            The arguments of :meth:`compute`.

        Returns
        -------
        dict
            What :meth:`compute` returns; the figure is ``self.fig``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`compute` (checked before anything is drawn).
        """
        result = self.compute(*args, **kwargs)
        params = inspect.signature(self.compute).bind(*args, **kwargs)
        params.apply_defaults()
        if self.fig is None:
            from matplotlib.figure import Figure

            self.fig = Figure(figsize=self.figsize)  # not pyplot's: no plt.show() or cell end shows it again
            self._create(result)
        self._draw(result, **params.arguments)
        return result

    def _create(self, result: dict) -> None:  # pragma: no cover - every explorer defines it
        raise NotImplementedError

    def _draw(self, result: dict, **params) -> None:  # pragma: no cover - every explorer defines it
        raise NotImplementedError

    def widget(self, **start):
        """The ipywidgets UI: the explorer's controls, a status line and the figure, redrawn on every change.

        Parameters
        ----------
        **start
            The controls' first values, keyword-only (each explorer's: ``index``, ``C``, ``bits``, ``ranks`` ...).

        Returns
        -------
        ipywidgets.VBox
            The controls, the status line and the figure (see :func:`.layout.explorer_box`).

        Raises
        ------
        TypeError, ValueError
            For a first value of the wrong type or outside its control's range (checked before any widget
            is shown).
        """
        rows, controls, read = self._controls(**start)

        def describe():
            params = read()
            return self._status(self.update(**params), **params)

        return explorer_box(rows, controls, describe, self)

    def _controls(self, **start) -> tuple:  # pragma: no cover - every explorer defines it
        raise NotImplementedError

    def _status(self, result: dict, **params) -> str:  # pragma: no cover - every explorer defines it
        raise NotImplementedError
