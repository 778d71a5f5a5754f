// The studio's small enhancements. Every page works without this script; it only makes
// things nicer: uploads with progress, live counters, players kept in step.
(function () {
  "use strict";
  // Words come from Django's JavaScript catalog (/jsi18n/) in the page's language; without
  // it, the English originals.
  var gettext = window.gettext || function (text) { return text; };
  function say(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (whole, name) { return values[name]; });
  }

  // --- Uploads: each chosen file goes up at once, with percent, speed and cancel --------
  // The file input sits in an hx-preserve block (jobs/partials/file_field.html), so a form
  // refresh that lands while the file dialog is open, or while an upload runs, leaves the
  // input, its progress and the chosen file alone.
  function megabytes(bytes) {
    return say(gettext("%(size)s MB"), {size: (bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)});
  }

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function keep(form, fieldName, ids) {
    // The stored assets travel as hidden ids; a new upload replaces what the slot held.
    form.querySelectorAll('input[type=hidden][name="' + fieldName + '"]').forEach(function (old) {
      old.remove();
    });
    ids.forEach(function (id) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = fieldName;
      hidden.value = id;
      form.appendChild(hidden);
    });
  }

  function recheck(form) {
    var fieldset = form.querySelector("#media-fieldset");
    if (fieldset && window.htmx) {
      window.htmx.trigger(fieldset, "studio:stored");
    }
  }

  function upload(form, box, input) {
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) return;
    if (box.studioUpload) box.studioUpload.abort();
    var limit = parseInt(form.dataset.maxBytes || "0", 10);
    var tooBig = files.filter(function (file) { return limit && file.size > limit; });
    if (tooBig.length) {
      // Said before a single byte is sent: the server would cut the upload off anyway.
      var problemBox = box.querySelector(".upload-error");
      problemBox.textContent = say(
        gettext("%(name)s is %(size)s; the upload limit is %(limit)s. Export a shorter or smaller file and choose it again."),
        {name: tooBig[0].name, size: megabytes(tooBig[0].size), limit: megabytes(limit)});
      problemBox.hidden = false;
      input.value = "";
      return;
    }
    var data = new FormData();
    data.append("slot", box.dataset.slot);
    files.forEach(function (file) { data.append("file", file); });
    // The bytes are in hand: clear the input so no other request sends them again.
    input.value = "";
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    var names = files.map(function (file) { return file.name; }).join(", ");
    var panel = box.querySelector(".upload-progress");
    var bar = panel.querySelector("progress");
    var figures = panel.querySelector(".upload-figures");
    var cancel = panel.querySelector(".upload-cancel");
    var problem = box.querySelector(".upload-error");
    var xhr = new XMLHttpRequest();
    var started = performance.now();
    box.studioUpload = xhr;
    box.dataset.state = "uploading";
    problem.hidden = true;
    panel.hidden = false;
    bar.value = 0;
    figures.textContent = say(gettext("Uploading %(names)s (%(size)s)…"), {names: names, size: megabytes(total)});
    xhr.open("POST", form.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var seconds = Math.max(0.001, (performance.now() - started) / 1000);
      var percent = Math.floor((100 * event.loaded) / event.total);
      bar.value = percent;
      figures.textContent = percent + "% · " + megabytes(event.loaded) + " of " + megabytes(event.total) +
        " · " + megabytes(event.loaded / seconds) + "/s";
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server looks inside the file
      figures.textContent = say(gettext("Uploaded. Checking %(names)s…"), {names: names});
    });
    function finish(message) {
      box.studioUpload = null;
      box.dataset.state = message ? "failed" : "done";
      panel.hidden = true;
      if (message) {
        problem.textContent = message;
        problem.hidden = false;
      }
    }
    xhr.addEventListener("load", function () {
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (error) { answer = {}; }
      if (xhr.status === 200 && answer.assets) {
        finish("");
        var ids = answer.assets.map(function (asset) { return asset.id; });
        unconfirmed[answer.field] = { ids: ids, tries: 0 };
        keep(form.isConnected ? form : document.getElementById("new-job-form"), answer.field, ids);
        recheck(document.getElementById("new-job-form"));
      } else {
        finish(answer.error || say(gettext("The upload failed (%(status)s). Please choose the file again."), {status: xhr.status}));
      }
    });
    xhr.addEventListener("error", function () {
      finish(gettext("The upload stopped: check your connection, then choose the file again."));
    });
    xhr.addEventListener("abort", function () {
      finish(gettext("Upload cancelled. Choose the file again when you are ready."));
    });
    cancel.onclick = function () { xhr.abort(); };
    xhr.send(data);
  }

  // A check that failed on the way (a busy server, a dropped connection) is tried again,
  // twice, so what was uploaded still gets its routes and cost.
  var checkRetries = 0;
  function checkFailed(event) {
    var source = event.detail && event.detail.elt;
    var form = document.getElementById("new-job-form");
    if (!form || !source || !form.contains(source) || source.id !== "media-fieldset") return;
    if (checkRetries >= 2) return;
    checkRetries += 1;
    setTimeout(function () { recheck(document.getElementById("new-job-form")); }, 800 * checkRetries);
  }
  document.addEventListener("htmx:responseError", checkFailed);
  document.addEventListener("htmx:sendError", checkFailed);
  // Uploads the server has not yet rendered back as kept. A check that was already on its
  // way when an upload finished can come back without it: the id is put back, and the
  // form checked again.
  var unconfirmed = {};
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail || !event.detail.target || event.detail.target.id !== "new-job-form") return;
    checkRetries = 0;
    var form = document.getElementById("new-job-form");
    if (!form) return;
    var missing = false;
    Object.keys(unconfirmed).forEach(function (field) {
      var wanted = unconfirmed[field];
      var present = Array.prototype.map.call(
        form.querySelectorAll('input[type=hidden][name="' + field + '"]'), function (hidden) { return hidden.value; });
      if (wanted.ids.every(function (id) { return present.indexOf(id) >= 0; }) || wanted.tries >= 2) {
        delete unconfirmed[field];
      } else {
        wanted.tries += 1;
        keep(form, field, wanted.ids);
        missing = true;
      }
    });
    if (missing) recheck(form);
  });

  // Capture phase on the document: the form's script handles a chosen file before htmx's
  // "check on change" would send it along with the whole form.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    var box = input.closest(".upload[data-slot]");
    var form = input.closest("form[data-upload-url]");
    if (!box || !form || !window.XMLHttpRequest || !window.FormData) return;
    event.stopPropagation();
    upload(form, box, input);
  }, true);

  // --- The script's length against the strictest route's limit, before any check -------
  function countScript() {
    var area = document.getElementById("id_script");
    var out = document.getElementById("script-count");
    if (!area || !out) return;
    var limit = parseInt(out.dataset.limit, 10);
    var length = area.value.length;
    var over = length - limit;
    out.textContent = say(gettext("%(length)s / %(limit)s characters"), {length: length, limit: limit}) +
      (over > 0 ? say(gettext(": %(over)s too many for this route, shorten the script"), {over: over}) : "");
    out.classList.toggle("over", over > 0);
  }
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_script") countScript();
  });

  // --- Time since a job started, counted here (the server's fragment stays the same) ---
  function elapsedWords(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return say(gettext("%(s)s s elapsed"), {s: seconds});
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return say(gettext("%(min)s min %(s)s s elapsed"), {min: minutes, s: seconds % 60});
    return say(gettext("%(h)s h %(min)s min elapsed"), {h: Math.floor(minutes / 60), min: minutes % 60});
  }
  function tickElapsed() {
    document.querySelectorAll("[data-since]").forEach(function (element) {
      var since = Date.parse(element.dataset.since);
      if (!isNaN(since)) element.textContent = elapsedWords((Date.now() - since) / 1000);
    });
  }
  setInterval(tickElapsed, 1000);

  // --- History: filters apply as soon as they change ------------------------------------
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.id === "history-filters" && event.target.name !== "q") form.requestSubmit();
    if (form && form.id === "compare-form") updateCompareButton(form);
  });
  // Empty filters stay out of the URL, so a shared link says only what was chosen.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "history-filters") return;
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && !field.value) field.disabled = true;
    });
  });
  window.addEventListener("pageshow", function () {
    // Coming back (the back button keeps the page): the fields are usable again.
    var form = document.getElementById("history-filters");
    if (form) Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
  });
  function updateCompareButton(form) {
    var button = form.querySelector("#compare-selected");
    if (!button) return;
    var ticked = form.querySelectorAll("input[name=job]:checked").length;
    button.disabled = ticked < 2 || ticked > 4;
    button.textContent = ticked ? say(gettext("Compare %(count)s selected"), {count: ticked}) : gettext("Compare selected");
  }

  // --- Compare: the players start, pause and seek together and stay within 0.1 s ------
  function syncPlayers(grid) {
    var players = Array.prototype.slice.call(grid.querySelectorAll("video.compare-player"));
    if (players.length < 2) return;
    var controls = document.getElementById("compare-controls");
    var playButton = document.getElementById("compare-play");
    var seek = document.getElementById("compare-seek");
    var clock = document.getElementById("compare-time");
    var muted = document.getElementById("compare-muted");
    var leader = players[0];
    var mirroring = false;
    controls.hidden = false;

    function longest() {
      return players.reduce(function (most, player) { return Math.max(most, player.duration || 0); }, 0);
    }
    function seekAll(time, except) {
      players.forEach(function (player) {
        if (player === except) return;
        player.currentTime = Math.min(time, Math.max(0, (player.duration || time) - 0.01));
      });
    }
    function playAll() {
      mirroring = true;
      seekAll(leader.currentTime, leader);
      Promise.all(players.map(function (player) { return player.play(); })).catch(function () {}).then(function () {
        mirroring = false;
      });
    }
    function pauseAll(except) {
      mirroring = true;
      players.forEach(function (player) { if (player !== except) player.pause(); });
      seekAll(except ? except.currentTime : leader.currentTime, except || leader);
      mirroring = false;
    }
    function applyMute() {
      players.forEach(function (player, index) { player.muted = muted.checked && index > 0; });
    }
    playButton.addEventListener("click", function () {
      if (players.some(function (player) { return !player.paused; })) pauseAll(null); else playAll();
    });
    seek.addEventListener("input", function () {
      var time = (seek.value / 1000) * longest();
      seekAll(time, null);
    });
    muted.addEventListener("change", applyMute);
    applyMute();
    players.forEach(function (player) {
      // Someone used one player's own controls: the others follow.
      player.addEventListener("play", function () { if (!mirroring) { leader = player; playAll(); } });
      player.addEventListener("pause", function () { if (!mirroring) pauseAll(player); });
      player.addEventListener("seeking", function () {
        if (mirroring || !player.paused) return;
        var target = player.currentTime;
        // Our own seeks arrive here too: pass on only a seek the others have not made.
        var behind = players.some(function (other) {
          return other !== player && Math.abs(other.currentTime - Math.min(target, (other.duration || target) - 0.01)) > 0.05;
        });
        if (!behind) return;
        mirroring = true;
        seekAll(target, player);
        mirroring = false;
      });
    });
    // While playing, anyone more than 0.1 s away from the leader is brought back.
    setInterval(function () {
      var playing = players.some(function (player) { return !player.paused; });
      playButton.textContent = playing ? gettext("Pause all") : gettext("Play all");
      var total = longest();
      if (total) {
        seek.value = Math.round((leader.currentTime / total) * 1000);
        clock.textContent = say(gettext("%(now)s s of %(total)s s"), {now: leader.currentTime.toFixed(1), total: total.toFixed(1)});
      }
      if (!playing) return;
      players.forEach(function (player) {
        if (player !== leader && !player.ended && Math.abs(player.currentTime - leader.currentTime) > 0.1 &&
            leader.currentTime < (player.duration || Infinity)) {
          player.currentTime = leader.currentTime;
        }
      });
    }, 250);
    grid.studioPlayers = { seekAll: seekAll, playAll: playAll, pauseAll: pauseAll };
  }

  function ready() {
    countScript();
    tickElapsed();
    var grid = document.getElementById("compare-grid");
    if (grid) syncPlayers(grid);
    var compare = document.getElementById("compare-form");
    if (compare) updateCompareButton(compare);
  }
  document.addEventListener("DOMContentLoaded", ready);
  document.addEventListener("htmx:afterSwap", function () { countScript(); tickElapsed(); });
})();
