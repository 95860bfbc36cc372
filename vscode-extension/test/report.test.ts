import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { escapeHtml, reportBody, reportHtml } from '../src/report';

const report = {
    version: 1,
    root: '/p',
    files: 12,
    findings: { SA102: 2, SA101: 3 },
    debt: { over_threshold: 4, excess_complexity: 17 },
    hotspots: [{ path: 'shop/pricing.py', uri: 'file:///p/shop/pricing.py', score: 0.91, churn: 7, complexity: 23 }],
    cycles: [['shop.a', 'shop.b']],
    snapshots: [{ time: '2026-11-26T10:00:00Z', findings: 9, over_threshold: 4, excess_complexity: 17 }],
};

describe('reportBody', () => {
    it('shows the summary, findings per rule (sorted), hotspots, cycles and snapshots', () => {
        const body = reportBody(report);
        assert.match(body, /12 files · 4 functions over a threshold · excess complexity 17/);
        assert.ok(body.indexOf('SA101') < body.indexOf('SA102'));
        assert.match(body, /<a href="#" data-open="file:\/\/\/p\/shop\/pricing.py">shop\/pricing.py<\/a><\/td><td>0.91<\/td><td>7<\/td><td>23/);
        assert.match(body, /shop.a → shop.b → shop.a/);
        assert.match(body, /data-cycle="\[&quot;shop.a&quot;,&quot;shop.b&quot;\]"/);
        assert.match(body, /2026-11-26T10:00:00Z<\/td><td>9/);
    });

    it('says what is empty instead of showing nothing', () => {
        const body = reportBody({ files: 0 });
        assert.match(body, /No findings\./);
        assert.match(body, /No hotspots/);
        assert.match(body, /No import cycles\./);
        assert.match(body, /No snapshots yet\./);
    });

    it('escapes everything from the answer', () => {
        assert.equal(escapeHtml(`<img src=x onerror="a">&'`), '&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;');
        assert.doesNotMatch(reportBody({ root: '<script>', findings: { '<b>': 1 } }), /<script>|<b>/);
    });
});

describe('reportHtml', () => {
    it('allows only its own nonced script', () => {
        const html = reportHtml(report, { cspSource: 'vscode-resource:', nonce: 'n1' });
        assert.match(html, /script-src 'nonce-n1'/);
        assert.match(html, /<script nonce="n1">/);
    });
});
