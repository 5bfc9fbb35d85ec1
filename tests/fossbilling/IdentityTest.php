<?php
/** A-labels without intl (punycode, lowercasing), service_id and generateUsername. */

declare(strict_types=1);

use IsphooksFossbilling\Idn;
use IsphooksFossbilling\Identity;
use PHPUnit\Framework\TestCase;

final class IdentityTest extends TestCase
{
    /** Known pairs: the issue's three, and others checked with Python's idna (UTS #46). */
    public function testDomainsBecomeTheirALabels(): void
    {
        $pairs = [
            'сайт.рф' => 'xn--80aswg.xn--p1ai',
            'münchen-shop.de' => 'xn--mnchen-shop-thb.de',
            'интернет-магазин.рф' => 'xn----8sbalhasbh9ahbi6a2ae.xn--p1ai',
            'Магазин.РФ' => 'xn--80aairftm.xn--p1ai',
            'bücher.de' => 'xn--bcher-kva.de',
            'München.DE' => 'xn--mnchen-3ya.de',
            '例え.jp' => 'xn--r8jz45g.jp',
            'παράδειγμα.δοκιμή' => 'xn--hxajbheg2az3al.xn--jxalpdlp',
            'пример.испытание' => 'xn--e1afmkfd.xn--80akhbyknj4f',
            '测试.com' => 'xn--0zwm56d.com',
            'faß.de' => 'xn--fa-hia.de',
            'ÉCOLE.fr' => 'xn--cole-9oa.fr',
            'İstanbul.com.tr' => 'xn--istanbul-o0e.com.tr',
            'ελληνικά.gr' => 'xn--hxargifdar.gr',
            'Shop.Example.COM' => 'shop.example.com',
            ' shop.example.com. ' => 'shop.example.com',
            'xn--80aswg.xn--p1ai' => 'xn--80aswg.xn--p1ai',
            'сайт。рф' => 'xn--80aswg.xn--p1ai', // the ideographic full stop is a dot
        ];
        foreach ($pairs as $domain => $aLabel) {
            $this->assertSame($aLabel, Idn::toAscii($domain), $domain);
        }
    }

    /** RFC 3492's encoder on raw code points, basic ones keeping their case (§7.1 (L)). */
    public function testPunycodeOfCodePoints(): void
    {
        $this->assertSame('3B-ww4c5e180e575a65lsy2b',
            Idn::punycode([0x33, 0x5E74, 0x42, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F]));
        $this->assertSame('tda', Idn::punycode([0xFC]));
        $this->assertSame('n3h', Idn::punycode([0x2603]));
        $this->assertSame('bcher-kva', Idn::punycode(Idn::codePoints('bücher')));
    }

    public function testLowercaseWithoutMbstring(): void
    {
        $this->assertSame('магазин рф ünïcödé σασ ǆ', Idn::lowercase('МАГАЗИН РФ ÜNÏCÖDÉ ΣΑΣ Ǆ')); // UTS #46: Σ is σ everywhere
        $this->assertSame([0x69, 0x307], Idn::lower(0x130));
        $this->assertSame([0xFF], Idn::lower(0x178)); // Ÿ, far from its lowercase
        $this->assertSame([0x4E2D], Idn::lower(0x4E2D)); // no case
    }

    public function testServiceIdIsTheHashOfTheEmailAndTheALabel(): void
    {
        // hashlib.sha256("owner@example.com|shop.example.com") in Python
        $this->assertSame('fb-f621a3303eb07dfa7e9e', Identity::serviceId('owner@example.com', 'shop.example.com'));
        $this->assertSame('fb-f77e1af564fcce174da7', Identity::serviceId('owner@example.com', 'xn--80aswg.xn--p1ai'));
    }

    public function testServiceIdIsStableAcrossSpellingsAndDiffersPerAccount(): void
    {
        $id = Identity::serviceId('owner@example.com', 'сайт.рф');
        $this->assertSame($id, Identity::serviceId(' Owner@Example.COM ', 'САЙТ.РФ.'));
        $this->assertSame($id, Identity::serviceId('OWNER@example.com', 'xn--80aswg.xn--p1ai'));
        $this->assertNotSame($id, Identity::serviceId('other@example.com', 'сайт.рф'));
        $this->assertNotSame($id, Identity::serviceId('owner@example.com', 'сайт2.рф'));
        // isphooks' service_id rule: 1-64 of [A-Za-z0-9_.:-]
        $this->assertMatchesRegularExpression('/^fb-[0-9a-f]{20}$/', $id);
    }

    public function testServiceIdNeedsTheEmailAndTheDomain(): void
    {
        foreach ([['', 'shop.example.com'], ['owner@example.com', ''], ['owner@example.com', '.']] as [$email, $domain]) {
            try {
                Identity::serviceId($email, $domain);
                $this->fail('no error for ' . $email . ' ' . $domain);
            } catch (\IsphooksFossbilling\SettingError $error) {
                $this->assertStringContainsString('isphooks identifies a FOSSBilling account', $error->getMessage());
            }
        }
    }

    public function testGeneratedUsernamesAreDeterministicAndFitTheRules(): void
    {
        $manager = \FossbillingTest\manager();
        $this->assertSame('shopexamplec9516', $manager->generateUsername('shop.example.com'));
        $this->assertSame('u123example4c9f', $manager->generateUsername('123.example'));
        $this->assertSame($manager->generateUsername('сайт.рф'), $manager->generateUsername('xn--80aswg.xn--p1ai'));
        $this->assertSame($manager->generateUsername('Shop.Example.com'), $manager->generateUsername('shop.example.com'));
        foreach (['shop.example.com', '123.example', 'сайт.рф', 'a.io', 'very-long-domain-name-indeed.example.org',
            'интернет-магазин.рф', '9.9.9.example'] as $domain) {
            $name = $manager->generateUsername($domain);
            $this->assertMatchesRegularExpression('/^[a-z][a-z0-9]{1,15}$/', $name, $domain);
            $this->assertSame($name, $manager->generateUsername($domain)); // no random digit
        }
        // the same 12 first characters, told apart by the hash
        $this->assertNotSame($manager->generateUsername('shopexamplecom1.net'), $manager->generateUsername('shopexamplecom2.net'));
        $this->assertSame('xn80aswgxnp1', substr($manager->generateUsername('сайт.рф'), 0, 12));
    }

    public function testUsersPrefixIsNotPartOfTheName(): void
    {
        $manager = \FossbillingTest\manager(null, ['config' => ['userprefix' => 'fb_']]);
        $this->assertSame('shopexamplec9516', $manager->generateUsername('shop.example.com'));
    }
}
