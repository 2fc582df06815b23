// The dashboard's charts, drawn with the vendored Chart.js from the JSON blocks
// the page renders (json_script), so the page needs no inline script and works
// under a strict Content-Security-Policy. Every chart has a table beside it with
// the same figures; without this script the page still reads completely.
(function () {
  "use strict";

  var html = document.documentElement;
  var lang = html.lang || "en";

  // Controls apply as soon as they change; the "Show" button is for no-script.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.classList.add("is-enhanced");
    form.addEventListener("change", function () {
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    });
  });

  if (typeof window.Chart === "undefined") return;
  var Chart = window.Chart;

  function cssVar(name, element) {
    return getComputedStyle(element || html).getPropertyValue(name).trim();
  }

  // Colours live in unportal.css (the SDG goal colours and the series palette),
  // so tables, swatches and charts cannot drift apart.
  var probe = document.createElement("span");
  probe.hidden = true;
  document.body.appendChild(probe);
  function sdgColour(goal) {
    probe.className = "sdg-" + goal;
    return cssVar("--sdg", probe) || "#3e4c59";
  }
  function seriesColour(n) {
    return cssVar("--dash-series-" + n) || "#00689d";
  }

  var compactMoney = new Intl.NumberFormat(lang, {
    style: "currency",
    currency: "USD",
    notation: "compact",
    maximumFractionDigits: 1,
  });
  var exactMoney = new Intl.NumberFormat(lang, {
    style: "currency",
    currency: "USD",
    maximumFractionDigits: 0,
  });
  var wholeNumber = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });

  function shorten(text, length) {
    return text.length > length ? text.slice(0, length - 1).trim() + "…" : text;
  }

  // Wrap a long statement for a tooltip, which draws one line per array item.
  function wrap(text, width) {
    var lines = [];
    var line = "";
    text.split(/\s+/).forEach(function (word) {
      if ((line + " " + word).trim().length > width) {
        if (line) lines.push(line);
        line = word;
      } else {
        line = (line + " " + word).trim();
      }
    });
    if (line) lines.push(line);
    return lines;
  }

  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = cssVar("--muted") || "#52606d";
  Chart.defaults.borderColor = cssVar("--border") || "#d9e0e8";
  Chart.defaults.animation = reduceMotion ? false : { duration: 350 };
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.tooltip.padding = 10;

  // Lets the page (and its browser test) tell that a chart has been drawn.
  var markDrawn = {
    id: "unportalDrawn",
    afterRender: function (chart) {
      chart.canvas.setAttribute("data-drawn", "true");
    },
  };

  function moneyAxis(title) {
    return {
      beginAtZero: true,
      title: { display: true, text: title },
      ticks: {
        callback: function (value) {
          return compactMoney.format(value);
        },
      },
    };
  }

  // Codes alone say little to a reader new to the framework; the start of the
  // statement goes with them.
  function codeAndTitle(data, length) {
    return data.labels.map(function (label, i) {
      return shorten(label + " " + (data.titles[i] || ""), length);
    });
  }

  function titleFrom(data) {
    return function (items) {
      var i = items[0].dataIndex;
      return [data.labels[i]].concat(wrap(data.titles[i] || "", 60));
    };
  }

  function moneyLabel(item) {
    return " " + item.dataset.label + ": " + exactMoney.format(item.raw);
  }

  var builders = {
    // Funding gap per outcome: shortfalls in red to the right, over-funding in
    // green to the left of zero.
    gap: function (data) {
      var values = data.datasets[0].data;
      return {
        type: "bar",
        data: {
          labels: codeAndTitle(data, 42),
          datasets: [
            {
              label: data.datasets[0].label,
              data: values,
              backgroundColor: values.map(function (value) {
                return value > 0 ? cssVar("--dash-shortfall") : cssVar("--dash-surplus");
              }),
              borderRadius: 3,
              maxBarThickness: 28,
            },
          ],
        },
        options: {
          indexAxis: "y",
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { title: titleFrom(data), label: moneyLabel } },
          },
          scales: { x: moneyAxis(data.axis), y: { grid: { display: false } } },
        },
      };
    },

    // One bar per outcome, stacked by agency, for the measure chosen above.
    stacked: function (data) {
      return {
        type: "bar",
        data: {
          labels: codeAndTitle(data, 42),
          datasets: data.datasets.map(function (dataset) {
            return {
              label: dataset.label,
              data: dataset.data,
              backgroundColor: seriesColour(dataset.series),
              borderColor: "#ffffff",
              borderWidth: { right: 1 },
              maxBarThickness: 30,
            };
          }),
        },
        options: {
          indexAxis: "y",
          interaction: { mode: "index", axis: "y", intersect: false },
          plugins: {
            legend: { position: "bottom" },
            tooltip: {
              filter: function (item) {
                return item.raw > 0;
              },
              callbacks: {
                title: titleFrom(data),
                label: moneyLabel,
                footer: function (items) {
                  var total = items.reduce(function (sum, item) {
                    return sum + item.raw;
                  }, 0);
                  return exactMoney.format(total);
                },
              },
            },
          },
          scales: {
            x: Object.assign(moneyAxis(data.axis), { stacked: true }),
            y: { stacked: true, grid: { display: false } },
          },
        },
      };
    },

    // How far each indicator has come, coloured by status, with a mark where
    // it should be by now.
    progress: function (data) {
      var colours = {
        on_track: cssVar("--dash-on-track"),
        off_track: cssVar("--dash-off-track"),
      };
      var progress = data.datasets[0];
      var expected = data.datasets[1];
      // One indicator far past its target would squeeze every other bar, so
      // the axis stops at 150 % (and -50 %); the tooltip and the table keep
      // the real values.
      var lowest = Math.min.apply(null, progress.data.concat([0]));
      var highest = Math.max.apply(null, progress.data.concat([100]));
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            {
              label: progress.label,
              data: progress.data,
              backgroundColor: data.status.map(function (status) {
                return colours[status] || cssVar("--border-strong");
              }),
              borderRadius: 3,
              maxBarThickness: 18,
              order: 2,
            },
            {
              type: "line",
              label: expected.label,
              data: expected.data,
              showLine: false,
              pointStyle: "line",
              pointRotation: 90,
              pointRadius: 11,
              pointHoverRadius: 13,
              pointBorderWidth: 3,
              borderColor: cssVar("--navy") || "#142638",
              backgroundColor: cssVar("--navy") || "#142638",
              order: 1,
            },
          ],
        },
        options: {
          indexAxis: "y",
          interaction: { mode: "index", axis: "y", intersect: false },
          plugins: {
            legend: { position: "bottom" },
            tooltip: {
              callbacks: {
                title: titleFrom(data),
                label: function (item) {
                  return " " + item.dataset.label + ": " + wholeNumber.format(item.raw) + " %";
                },
              },
            },
          },
          scales: {
            x: {
              min: lowest < 0 ? Math.max(-50, Math.floor(lowest / 25) * 25) : 0,
              max: highest > 100 ? Math.min(150, Math.ceil(highest / 25) * 25) : 100,
              title: { display: true, text: data.axis },
              ticks: {
                stepSize: 25,
                callback: function (value) {
                  return value + " %";
                },
              },
            },
            y: { grid: { display: false } },
          },
        },
      };
    },

    // The seventeen goals in their official colours, gaps in coverage included.
    sdg: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            {
              label: data.datasets[0].label,
              data: data.datasets[0].data,
              backgroundColor: data.labels.map(sdgColour),
              borderRadius: 3,
            },
          ],
        },
        options: {
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                title: function (items) {
                  return data.titles[items[0].dataIndex];
                },
                label: moneyLabel,
              },
            },
          },
          scales: {
            y: moneyAxis(data.axis),
            x: { grid: { display: false }, ticks: { autoSkip: false } },
          },
        },
      };
    },

    // Required, available and spent side by side for each area.
    grouped: function (data) {
      var colours = [cssVar("--dash-required"), cssVar("--dash-available"), cssVar("--dash-spent")];
      return {
        type: "bar",
        data: {
          labels: data.titles.map(function (title) {
            return shorten(title, 34);
          }),
          datasets: data.datasets.map(function (dataset, i) {
            return {
              label: dataset.label,
              data: dataset.data,
              backgroundColor: colours[i],
              borderRadius: 2,
              maxBarThickness: 14,
            };
          }),
        },
        options: {
          indexAxis: "y",
          interaction: { mode: "index", axis: "y", intersect: false },
          plugins: {
            legend: { position: "bottom" },
            tooltip: {
              callbacks: {
                title: function (items) {
                  var i = items[0].dataIndex;
                  return [data.labels[i]].concat(wrap(data.titles[i], 60));
                },
                label: moneyLabel,
              },
            },
          },
          scales: { x: moneyAxis(data.axis), y: { grid: { display: false } } },
        },
      };
    },
  };

  // Horizontal charts grow with their rows, so bars keep a readable height.
  var rowHeight = { gap: 40, stacked: 46, progress: 28, grouped: 58 };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    var build = builders[canvas.getAttribute("data-chart")];
    if (!source || !build) return;
    var data = JSON.parse(source.textContent);
    var box = canvas.parentElement;
    var perRow = rowHeight[data.kind];
    if (perRow) {
      box.style.height = Math.max(220, data.labels.length * perRow + 90) + "px";
    }
    var config = build(data);
    config.plugins = [markDrawn];
    new Chart(canvas, config);
  });
})();
