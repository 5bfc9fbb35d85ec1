<?php
/**
 * The stand-in and the manager held to FOSSBilling's own interface: signatures.json, recorded
 * by reflection from FOSSBilling's src/library files at the commit it names.
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

final class InterfaceTest extends TestCase
{
    private const LINE = '/^(public|protected)( static)?( abstract)?( final)? function (\w+)(\(.*\))(?:: (.+))?$/';

    /** What Server_Manager's docblocks say each method returns: an override may declare it. */
    private const RETURNS = [
        'getLoginUrl' => 'string', 'getResellerLoginUrl' => 'string', 'testConnection' => 'bool',
        'createAccount' => 'bool', 'synchronizeAccount' => 'Server_Account', 'suspendAccount' => 'bool',
        'unsuspendAccount' => 'bool', 'cancelAccount' => 'bool', 'changeAccountPassword' => 'bool',
        'changeAccountUsername' => 'bool', 'changeAccountDomain' => 'bool', 'changeAccountIp' => 'bool',
        'changeAccountPackage' => 'bool', 'generateUsername' => 'string', 'init' => 'void',
    ];

    private static function table(): array
    {
        return json_decode((string) file_get_contents(__DIR__ . '/signatures.json'), true, 512, JSON_THROW_ON_ERROR);
    }

    public function testTheTableNamesItsSource(): void
    {
        $source = self::table()['source'];
        $this->assertSame('https://github.com/FOSSBilling/FOSSBilling', $source['repository']);
        $this->assertMatchesRegularExpression('/^[0-9a-f]{40}$/', $source['commit']);
        $this->assertArrayHasKey('src/library/Server/Manager.php', $source['files']);
    }

    public function testTheStandInHasFossbillingsInterface(): void
    {
        $this->assertSame(self::table()['classes'], FossbillingSignature\describeAll());
    }

    public function testTheManagerKeepsEverySignatureOfServerManager(): void
    {
        $manager = new ReflectionClass(Server_Manager_Isphooks::class);
        $this->assertSame('Server_Manager', $manager->getParentClass()->getName());
        $this->assertFalse($manager->isAbstract());
        foreach (self::table()['classes']['Server_Manager']['methods'] as $name => $line) {
            $this->assertMatchesRegularExpression(self::LINE, $line);
            preg_match(self::LINE, $line, $base);
            $ours = $manager->getMethod($name);
            $this->assertFalse($ours->isAbstract(), $name);
            $this->assertSame($base[2] !== '', $ours->isStatic(), $name . ': static');
            if ($ours->getDeclaringClass()->getName() !== Server_Manager_Isphooks::class) {
                continue; // inherited as it is
            }
            $this->assertTrue($ours->isPublic() || $base[1] === 'protected', $name . ': visibility');
            $this->assertSame($base[6], FossbillingSignature\parameters($ours), $name . ': parameters');
            $return = $ours->getReturnType() === null ? null : (string) $ours->getReturnType();
            if (isset($base[7])) {
                $this->assertSame($base[7], $return, $name . ': return type');
            } else {
                $this->assertContains($return, [null, self::RETURNS[$name] ?? null], $name . ': return type');
            }
        }
        foreach (['getForm', 'getSecretFields'] as $name) {
            $this->assertTrue($manager->getMethod($name)->isStatic() && $manager->getMethod($name)->isPublic());
            $this->assertSame('array', (string) $manager->getMethod($name)->getReturnType());
        }
    }

    /** Every abstract method is implemented by the manager itself (none left to a default). */
    public function testTheManagerImplementsEveryAbstractMethod(): void
    {
        $abstract = array_keys(array_filter(self::table()['classes']['Server_Manager']['methods'],
            fn (string $line): bool => str_contains($line, ' abstract ')));
        $this->assertCount(13, $abstract);
        foreach ($abstract as $name) {
            $this->assertSame(Server_Manager_Isphooks::class,
                (new ReflectionMethod(Server_Manager_Isphooks::class, $name))->getDeclaringClass()->getName());
        }
    }
}
