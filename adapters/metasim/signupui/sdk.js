// A stand-in for Meta's JavaScript SDK, served by portabot's simulator:
// FB.init and FB.login with the shape Embedded Signup uses. FB.login opens
// the simulated signup window; the window posts WA_EMBEDDED_SIGNUP events
// to this page and hands the login callback a code, as Meta's popup does.
(function () {
  var sim = new URL(document.currentScript.src).origin;
  window.FB = {
    init: function () {},
    login: function (callback, options) {
      var o = options || {};
      var extras = o.extras || {};
      var setup = extras.setup || {};
      var u = new URL(sim + "/signup");
      u.searchParams.set("config_id", o.config_id || "");
      u.searchParams.set("feature", extras.featureType || "");
      u.searchParams.set("origin", window.location.origin);
      var bp = (setup.business || {}).phone;
      if (bp) u.searchParams.set("phone", "+" + bp.code + " " + bp.number);
      if (setup.business && setup.business.name) u.searchParams.set("business", setup.business.name);
      window.addEventListener("message", function done(ev) {
        if (ev.origin !== sim) return;
        var d;
        try { d = JSON.parse(ev.data); } catch (e) { return; }
        if (d.type !== "SIM_FB_LOGIN") return;
        window.removeEventListener("message", done);
        callback(d.code ? { status: "connected", authResponse: { code: d.code } } : { status: "unknown", authResponse: null });
      });
      window.open(u.toString(), "fb_signup", "width=520,height=640");
    }
  };
  if (typeof window.fbAsyncInit === "function") window.fbAsyncInit();
})();
