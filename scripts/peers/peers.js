'use strict';
// Lango's pass, printed by two established ESC/POS libraries from npm.
//
// Each slips/PROFILE.json is the paid typical pass as Lango lays it out on
// that profile (written by `go test ./printer -run PeerSlips -update`): the
// slip's elements (centred lines, left/right pairs, text, rules, the QR
// code, the cut) and the QR text, compact and with the certificate
// embedded. This script hands the same elements and the same QR text to
// receiptline and to node-thermal-printer, each used the way its README
// shows, and writes what they would send to the printer to
// ../../testdata/printer/peers/LIB_PROFILE_PASS.bin. printer/peers_test.go
// checks that every stream prints the pass (its QR decodes to the exact
// text) and sets its bytes beside Lango's (docs/BENCHMARKS.md, Printing).
//
// The QR as each would send it on that printer:
//  - receiptline has no native QR for ESC/POS: it always sends an image
//    (GS 8 L graphics, `escpos` command), at the profile's module size and
//    error correction;
//  - node-thermal-printer sends native GS ( k on profiles whose printer
//    draws QR codes (Epson), and on the raster profiles an image
//    (printImageBuffer, GS v 0) of the symbol the qrcode package makes,
//    since it has no QR encoder of its own.
// receiptline encodes the whole text in byte mode (8 bits a character);
// Lango (go-qrcode) and the qrcode package put digits in numeric mode
// (10 bits for three), so receiptline's symbol is larger for a pass.
const fs = require('fs');
const path = require('path');
const receiptline = require('receiptline');
const { ThermalPrinter, PrinterTypes, CharacterSet } = require('node-thermal-printer');
const { PNG } = require('pngjs');
const QRCode = require('qrcode');

const slipDir = path.join(__dirname, 'slips');
const outDir = path.join(__dirname, '..', '..', 'testdata', 'printer', 'peers');

// receiptline: a ReceiptLine document, one line per element.
function escapeRL(s) {
  s = s.replace(/[\\|{}~_"`^]/g, c => '\\' + c);
  if (/^[-=]+$/.test(s)) s = '\\' + s;
  return s;
}

function decorateRL(text, it) {
  let s = escapeRL(text);
  if (it.bold) s = '"' + s + '"';
  if (it.size === 2) s = '^^^' + s; // 2x size
  return s;
}

function receiptlineDoc(slip, qr) {
  const lines = [];
  for (const it of slip.items) {
    switch (it.kind) {
      case 'center':
        lines.push('|' + decorateRL(it.text, it) + '|');
        break;
      case 'pair':
        if (!it.text) lines.push('| ' + decorateRL(it.right, it));
        else lines.push(decorateRL(it.text, it) + ' | ' + decorateRL(it.right, it));
        break;
      case 'text':
        // leading spaces are kept as ~ (a space receiptline does not trim)
        lines.push('|' + decorateRL(it.text.replace(/^ +/, m => '\u0000'.repeat(m.length)), it).replace(/\u0000/g, '~') + ' |');
        break;
      case 'rule':
        lines.push(it.text === '=' ? '---' : '-');
        break;
      case 'banner':
        for (const l of it.text.split('\n')) lines.push('|`^^^' + escapeRL(l) + '`|');
        break;
      case 'qr':
        lines.push('{code:' + qr + '; option:qrcode,' + Math.max(3, slip.qr_module) + ',' + slip.qr_level.toLowerCase() + '}');
        break;
      case 'cut':
        break; // receiptline cuts at the end (cutting: true)
    }
  }
  return lines.join('\n');
}

function receiptlineStream(slip, qr) {
  const doc = receiptlineDoc(slip, qr);
  const cmd = receiptline.transform(doc, {
    cpl: slip.columns, encoding: slip.code_page.toLowerCase(), spacing: true, cutting: true, command: 'escpos',
  });
  return Buffer.from(cmd, 'binary');
}

// node-thermal-printer: its calls, element by element.
function wrap(s, width) {
  const out = [];
  let cur = '';
  for (const w of s.split(/ +/).filter(Boolean)) {
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ' ' + w;
    else { out.push(cur); cur = w; }
  }
  if (cur) out.push(cur);
  return out;
}

// qrPNG draws the QR symbol as a PNG for printImageBuffer, with the
// qrcode package (npm's most used QR encoder; node-thermal-printer has
// none): the same text, level and module size as Lango's, no quiet zone
// (the paper's margin and the feeds give it one, as Lango's does).
function qrPNG(qr, module, level) {
  const sym = QRCode.create(qr, { errorCorrectionLevel: level });
  const size = sym.modules.size;
  const n = size * module;
  const png = new PNG({ width: n, height: n });
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const dark = sym.modules.get(Math.floor(y / module), Math.floor(x / module));
      const i = (y * n + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = dark ? 0 : 255;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

async function thermalStream(slip, qr) {
  const p = new ThermalPrinter({
    type: PrinterTypes.EPSON, width: slip.columns,
    characterSet: slip.code_page === 'CP858' ? CharacterSet.PC858_EURO : CharacterSet.PC437_USA,
  });
  p.clear();
  p.initHardware && p.add(Buffer.from([0x1b, 0x40]));
  if (slip.code_page === 'CP858') p.add(Buffer.from([0x1b, 0x74, 19]));
  else p.add(Buffer.from([0x1b, 0x74, 0]));
  for (const it of slip.items) {
    switch (it.kind) {
      case 'center':
        p.alignCenter();
        if (it.bold) p.bold(true);
        if (it.size === 2) p.setTextQuadArea();
        for (const l of wrap(it.text, Math.floor(slip.columns / (it.size || 1)))) p.println(l);
        if (it.size === 2) p.setTextNormal();
        if (it.bold) p.bold(false);
        p.alignLeft();
        break;
      case 'pair': {
        if (it.bold) p.bold(true);
        const avail = slip.columns - it.right.length - 1;
        const lines = wrap(it.text || '', avail);
        p.leftRight(lines[0] || '', it.right);
        for (const l of wrap(lines.slice(1).join(' '), slip.columns - 2)) p.println('  ' + l);
        if (it.bold) p.bold(false);
        break;
      }
      case 'text':
        p.println(it.text);
        break;
      case 'rule':
        p.drawLine(it.text);
        break;
      case 'banner':
        p.invert(true);
        p.alignCenter();
        p.setTextQuadArea();
        for (const l of it.text.split('\n')) p.println(l);
        p.setTextNormal();
        p.alignLeft();
        p.invert(false);
        break;
      case 'qr':
        p.alignCenter();
        if (slip.native_qr) p.printQR(qr, { model: 2, cellSize: slip.qr_module, correction: slip.qr_level });
        else await p.printImageBuffer(qrPNG(qr, slip.qr_module, slip.qr_level));
        p.newLine();
        p.alignLeft();
        break;
      case 'cut':
        p.partialCut();
        break;
    }
  }
  return p.getBuffer();
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const rows = [];
  for (const f of fs.readdirSync(slipDir).filter(f => f.endsWith('.json')).sort()) {
    const slip = JSON.parse(fs.readFileSync(path.join(slipDir, f), 'utf8'));
    for (const [pass, qr] of Object.entries(slip.passes)) {
      for (const [lib, make] of [['receiptline', receiptlineStream], ['node-thermal-printer', thermalStream]]) {
        const b = await make(slip, qr);
        const name = `${lib}_${slip.profile}_${pass}.bin`;
        fs.writeFileSync(path.join(outDir, name), b);
        rows.push(`${name}\t${b.length} bytes\t${(b.length * 10 / 9600).toFixed(2)} s at 9,600\t${(b.length * 10 / 115200).toFixed(2)} s at 115,200`);
      }
    }
  }
  console.log(rows.join('\n'));
}

main().catch(e => { console.error(e); process.exit(1); });
