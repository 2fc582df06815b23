// The executive board's charts and world map, drawn with the vendored Chart.js
// (and chartjs-chart-geo for the map) from the JSON blocks the page renders
// (json_script): no inline script, so the pages work under a strict
// Content-Security-Policy. Every chart has a table with the same figures;
// without this script the pages still read completely.
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") return;
  var Chart = window.Chart;
  var html = document.documentElement;
  var lang = html.lang || "en";

  function cssVar(name, element) {
    return getComputedStyle(element || html).getPropertyValue(name).trim();
  }

  // Colours live in unportal.css, so tables, swatches and charts share them.
  var probe = document.createElement("span");
  probe.hidden = true;
  document.body.appendChild(probe);
  function sdgColour(goal) {
    probe.className = "sdg-" + goal;
    return cssVar("--sdg", probe) || "#3e4c59";
  }
  var colours = {
    required: cssVar("--dash-required") || "#19486a",
    available: cssVar("--dash-available") || "#009edb",
    spent: cssVar("--dash-spent") || "#e69f00",
    on_track: cssVar("--dash-on-track") || "#2e8b57",
    shortfall: cssVar("--dash-shortfall") || "#c0392b",
    programme: cssVar("--dash-series-1") || "#00689d",
    other: cssVar("--board-other") || "#9fb3c8",
  };
  function seriesColour(series) {
    return colours[series] || cssVar("--dash-series-" + series) || "#00689d";
  }
  // A colour at reduced strength, for the years outside the period shown.
  function faded(colour) {
    return colour.length === 7 ? colour + "55" : colour;
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
    id: "unportalBoardDrawn",
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

  function moneyLabel(item) {
    return " " + item.dataset.label + ": " + exactMoney.format(item.raw);
  }

  function titleFrom(data) {
    return function (items) {
      var i = items[0].dataIndex;
      var title = data.titles ? data.titles[i] : "";
      return title ? data.labels[i] + " " + title : data.labels[i];
    };
  }

  function horizontal(data, datasets, stacked) {
    return {
      type: "bar",
      data: {
        labels: data.titles && !data.short_labels
          ? data.labels.map(function (label, i) {
              return shorten(label + " " + (data.titles[i] || ""), 40);
            })
          : data.labels,
        datasets: datasets,
      },
      options: {
        indexAxis: "y",
        interaction: { mode: "index", axis: "y", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: { callbacks: { title: titleFrom(data), label: moneyLabel } },
        },
        scales: {
          x: Object.assign(moneyAxis(data.axis), { stacked: !!stacked }),
          y: { stacked: !!stacked, grid: { display: false } },
        },
      },
    };
  }

  var builders = {
    // Money per year as bars, the share of indicators on track as a line.
    trend: function (data) {
      var datasets = data.datasets.map(function (dataset) {
        var colour = seriesColour(dataset.series);
        if (dataset.series === "on_track") {
          return {
            type: "line",
            label: dataset.label,
            data: dataset.data,
            yAxisID: "percent",
            borderColor: colour,
            backgroundColor: colour,
            pointRadius: 4,
            spanGaps: true,
            order: 0,
          };
        }
        return {
          label: dataset.label,
          data: dataset.data,
          yAxisID: "money",
          legendColour: colour,
          backgroundColor: data.highlight.map(function (inPeriod) {
            return inPeriod ? colour : faded(colour);
          }),
          borderRadius: 2,
          maxBarThickness: 22,
          order: 1,
        };
      });
      return {
        type: "bar",
        data: { labels: data.labels, datasets: datasets },
        options: {
          interaction: { mode: "index", intersect: false },
          plugins: {
            legend: {
              position: "bottom",
              labels: {
                // The legend shows each series at full strength, not the
                // faded colour of the first year's bar.
                generateLabels: function (chart) {
                  var labels = Chart.defaults.plugins.legend.labels.generateLabels(chart);
                  labels.forEach(function (label) {
                    var colour = chart.data.datasets[label.datasetIndex].legendColour;
                    if (colour) {
                      label.fillStyle = colour;
                      label.strokeStyle = colour;
                    }
                  });
                  return labels;
                },
              },
            },
            tooltip: {
              callbacks: {
                label: function (item) {
                  if (item.dataset.yAxisID === "percent") {
                    return item.raw === null
                      ? null
                      : " " + item.dataset.label + ": " + wholeNumber.format(item.raw) + " %";
                  }
                  return moneyLabel(item);
                },
              },
            },
          },
          scales: {
            money: Object.assign(moneyAxis(data.axis), { position: "left" }),
            percent: {
              position: "right",
              min: 0,
              max: 100,
              grid: { drawOnChartArea: false },
              title: { display: true, text: data.axis_percent },
              ticks: {
                callback: function (value) {
                  return value + " %";
                },
              },
            },
            x: { grid: { display: false } },
          },
        },
      };
    },

    // Funding gap per team, the largest first.
    gaps: function (data) {
      return horizontal(data, [
        {
          label: data.datasets[0].label,
          data: data.datasets[0].data,
          backgroundColor: colours.shortfall,
          borderRadius: 3,
          maxBarThickness: 26,
        },
      ]);
    },

    // Each agency's spending, split into joint programmes and other joint work.
    joint: function (data) {
      return horizontal(
        data,
        data.datasets.map(function (dataset) {
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: seriesColour(dataset.series),
            borderColor: "#ffffff",
            borderWidth: { right: 1 },
            maxBarThickness: 24,
          };
        }),
        true
      );
    },

    // One segment per series (e.g. signatory agency) in each bar.
    stacked: function (data) {
      return horizontal(
        data,
        data.datasets.map(function (dataset) {
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: seriesColour(dataset.series),
            borderColor: "#ffffff",
            borderWidth: { right: 1 },
            maxBarThickness: 24,
          };
        }),
        true
      );
    },

    // Required, available and spent side by side.
    grouped: function (data) {
      return horizontal(
        data,
        data.datasets.map(function (dataset) {
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: seriesColour(dataset.series),
            borderRadius: 2,
            maxBarThickness: 14,
          };
        })
      );
    },

    // The goals in their official colours.
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
  };

  // Horizontal charts grow with their rows, so bars keep a readable height.
  var rowHeight = { gaps: 36, joint: 34, stacked: 40, grouped: 54 };

  function draw(canvas, config) {
    config.plugins = (config.plugins || []).concat([markDrawn]);
    return new Chart(canvas, config);
  }

  // The world map: the country teams coloured by the chosen measure, the rest
  // of the world drawn as an outline. The shapes come from the vendored
  // world-atlas file; selecting a team opens its board page.
  function drawMap(canvas, data) {
    var ChartGeo = window.ChartGeo;
    var box = canvas.parentElement;
    function fail() {
      box.textContent = canvas.textContent;
      box.classList.add("board-map__failed");
    }
    if (!ChartGeo || !canvas.dataset.atlas) return fail();
    fetch(canvas.dataset.atlas, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (world) {
        var countries = ChartGeo.topojson.feature(world, world.objects.countries).features;
        var byId = {};
        data.teams.forEach(function (team) {
          byId[team.id] = team;
        });
        var shown = countries.filter(function (feature) {
          return byId[feature.id];
        });
        var format = data.percent
          ? function (value) {
              return wholeNumber.format(value) + " %";
            }
          : function (value) {
              return compactMoney.format(value);
            };
        draw(canvas, {
          type: "choropleth",
          data: {
            labels: shown.map(function (feature) {
              return byId[feature.id].name;
            }),
            datasets: [
              {
                label: data.label,
                outline: countries,
                showOutline: true,
                outlineBorderColor: cssVar("--border-strong") || "#b8c4d0",
                outlineBackgroundColor: cssVar("--neutral-bg") || "#eef1f5",
                borderColor: cssVar("--navy") || "#142638",
                borderWidth: 1,
                data: shown.map(function (feature) {
                  return { feature: feature, value: byId[feature.id].value };
                }),
              },
            ],
          },
          options: {
            showOutline: true,
            showGraticule: false,
            plugins: {
              legend: { display: false },
              tooltip: {
                callbacks: {
                  label: function (item) {
                    var team = byId[shown[item.dataIndex].id];
                    var value = team.value === null ? data.no_value : format(team.value);
                    return " " + team.name + ": " + value;
                  },
                },
              },
            },
            scales: {
              projection: { axis: "x", projection: "equalEarth" },
              color: {
                axis: "x",
                interpolate: data.measure === "gap" ? "oranges" : "blues",
                missing: cssVar("--border-strong") || "#b8c4d0",
                legend: { position: "bottom-left", align: "bottom" },
                ticks: {
                  callback: function (value) {
                    return format(value);
                  },
                },
              },
            },
            onClick: function (event, elements) {
              if (elements.length) {
                var team = byId[shown[elements[0].index].id];
                if (team && team.url) window.location.assign(team.url);
              }
            },
          },
        });
      })
      .catch(fail);
  }

  document.querySelectorAll("canvas[data-board-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var kind = canvas.getAttribute("data-board-chart");
    if (kind === "map") return drawMap(canvas, data);
    var build = builders[kind];
    if (!build) return;
    var perRow = rowHeight[kind];
    if (perRow) {
      canvas.parentElement.style.height = Math.max(200, data.labels.length * perRow + 90) + "px";
    }
    draw(canvas, build(data));
  });
})();
