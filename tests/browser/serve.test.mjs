// Drives the `yamiro serve` page in headless Chromium: uploads an image through the file
// picker, waits for the finished job and checks the result image's size; a screenshot of
// the page with the finished job is written (YAMIRO_SCREENSHOT, else a temporary file).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [bin, fixtures, executablePath] = process.argv.slice(2);
const fail = (message) => { console.error("FAILED: " + message); process.exitCode = 1; };

const server = spawn(bin, ["serve", "--port", "0", "-m", join(fixtures, "compact-x4-nc4-nf16.param"), "--tile", "32"],
                     { stdio: ["ignore", "pipe", "inherit"] });
let browser;
const work = mkdtempSync(join(tmpdir(), "yamiro-browser-"));
try {
  const url = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error("yamiro serve exited with " + code + " before listening")));
    setTimeout(() => reject(new Error("yamiro serve did not start in 60 s")), 60000);
  });
  browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) external.push(r.url()); });
  await page.goto(url);
  // The profile and the installed models are shown.
  await page.waitForSelector("#models li");
  const models = await page.locator("#models li").allTextContents();
  if (!models.some((m) => m.startsWith("compact-x4-nc4-nf16"))) fail("installed models not listed: " + models);
  const info = await page.locator("#info").textContent();
  if (!/CPU/.test(info) || !/LibTorch/.test(info)) fail("machine profile not shown: " + info);

  // A bad file first: the refusal is shown in plain words, then a real image.
  await page.setInputFiles("#file", { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("just text") });
  await page.waitForSelector(".job .state.refused");
  const refusal = await page.locator(".job .error").first().textContent();
  if (!/not an image/.test(refusal)) fail("refusal not explained: " + refusal);

  await page.selectOption("#outscale", "");
  await page.setInputFiles("#file", join(fixtures, "rgb48x60.png"));
  await page.waitForSelector(".job .state.done", { timeout: 60000 });
  const img = page.locator(".job .compare img.after").first();
  await img.waitFor();
  await page.waitForFunction(() => { const i = document.querySelector(".job .compare img.after"); return i && i.complete && i.naturalWidth > 0; });
  const size = await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]);
  if (size[0] !== 240 || size[1] !== 192) fail("result image is " + size.join("x") + ", expected 240x192");
  const meta = await page.locator(".job .meta").first().textContent();
  if (!/60×48 → 240×192/.test(meta)) fail("job details not shown: " + meta);
  const download = await page.locator(".job a.button").first().getAttribute("download");
  if (download !== "rgb48x60_x4.png") fail("download name is " + download);
  // The slider moves the before/after split.
  await page.locator(".compare input[type=range]").first().fill("20");
  const clip = await page.locator(".compare img.before").first().evaluate((i) => i.style.clipPath);
  if (!/80%/.test(clip)) fail("comparison slider did not move: " + clip);
  if (pageErrors.length) fail("page errors: " + pageErrors.join("; "));
  if (external.length) fail("the page asked for something elsewhere: " + external.join(", "));

  const shot = process.env.YAMIRO_SCREENSHOT || join(work, "serve.png");
  await page.screenshot({ path: shot, fullPage: true });
  console.log("result " + size.join("x") + "; screenshot " + shot);
} catch (e) {
  fail(e.message);
} finally {
  if (browser) await browser.close();
  server.kill("SIGINT");
  const [code] = await once(server, "exit");
  if (code !== 0) fail("yamiro serve exited with " + code + " after SIGINT");
  rmSync(work, { recursive: true, force: true });
}
if (!process.exitCode) console.log("PASSED: serve page in headless Chromium");
